//! `oidc-harness fixture`: a token becomes a scenario file that `run` replays to the verdict
//! `verify` gave the original, for every token of the malformation catalog and for tokens made
//! here by hand with shapes the project's own minting never makes; and nothing personal, no
//! signature, kid or encrypted key of the original survives into the file.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use oidc_harness::scenario::Scenario;

use super::cli::run;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The time the originals are minted at, and verified a minute later.
const MINTED: &str = "2026-03-01T10:00:00Z";
const VERIFIED: &str = "2026-03-01T10:01:00Z";
/// `verify`'s options for the originals: the client, the minute after minting, the nonce.
const CHECKED: [&str; 6] = [
    "--client-id",
    "demo-client",
    "--now",
    VERIFIED,
    "--nonce",
    "n-1",
];
/// The fixture signing key's kid (`oidc-harness keys show`).
const KID: &str = "2111d050246e082bd10c76368d68e8a65379997b";

/// `verify --format json` of the token in `file` with `options`: "authenticated" or
/// "rejected (reason)".
fn verify(file: &Path, options: &[&str]) -> String {
    let mut args = vec!["verify", file.to_str().unwrap(), "--format", "json"];
    args.extend(options);
    let (code, out, err) = run(&args);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    // The exit code is the platform reading's.
    let platform = reading(&json["platform"]);
    assert_eq!(code, i32::from(platform != "authenticated"), "{out}");
    // As `run` says what a file expects: the strict verdict, and the platform's where it differs.
    let strict = reading(&json["strict"]);
    if strict == platform {
        strict
    } else {
        format!("{strict}; platform: {platform}")
    }
}

fn reading(verdict: &Value) -> String {
    match verdict["verdict"].as_str().unwrap() {
        "authenticated" => "authenticated".to_owned(),
        "rejected" => format!("rejected ({})", verdict["reason"].as_str().unwrap()),
        other => panic!("verdict {other}"),
    }
}

/// `fixture` of the token in `file` into `out`: exit code and stdout.
fn fixture(file: &Path, out: &Path, flow: &str, options: &[&str]) -> (i32, String) {
    let mut args = vec![
        "fixture",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--flow",
        flow,
    ];
    args.extend(options);
    let (code, stdout, stderr) = run(&args);
    assert!(
        code == 0 || code == 1,
        "fixture exit {code}: {stdout} {stderr}"
    );
    (code, stdout)
}

/// The file at `path` is, after the comment it opens with, exactly the scenario it reads back
/// as, written again: what `fixture` writes is the scenario format's own text, and nothing in
/// it is lost on reading.
fn assert_reads_back_as_written(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let scenario = Scenario::parse(path, &text).unwrap_or_else(|e| panic!("{e}"));
    let body: String = text
        .split_inclusive('\n')
        .skip_while(|line| line.starts_with('#'))
        .collect();
    assert!(body.len() < text.len(), "no leading comment: {text}");
    assert_eq!(body, scenario.to_toml().unwrap(), "{}", path.display());
}

/// `run DIR --format json`: each scenario's id -> (status, expected).
fn run_dir(dir: &Path) -> std::collections::HashMap<String, (String, String, String)> {
    let (_, out, err) = run(&["run", dir.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                (
                    o["status"].as_str().unwrap().to_owned(),
                    o["expected"].as_str().unwrap().to_owned(),
                    o["detail"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}

/// Runs `work` over `items` on four threads.
fn parallel<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                work(item);
            });
        }
    });
}

#[test]
fn every_catalog_token_replays_to_the_verdict_verify_gave_it() {
    let (_, list, _) = run(&["mint", "--mutate", "list"]);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() >= 120, "{list}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fixtures");
    std::fs::create_dir(&out).unwrap();
    // Each catalog token plain through the Implicit Flow, and in an envelope through the
    // Code Flow.
    let cases: Vec<(&str, bool)> = names
        .iter()
        .flat_map(|n| [(*n, false), (*n, true)])
        .collect();
    let expected = std::sync::Mutex::new(std::collections::HashMap::new());
    parallel(&cases, |(name, sealed)| {
        let mut mint = vec!["mint", "--mutate", name, "--now", MINTED, "--nonce", "n-1"];
        if *sealed {
            mint.push("--encrypt");
        }
        let (code, token, err) = run(&mint);
        assert_eq!(code, 0, "{name}: {err}");
        let variant = if *sealed { "sealed" } else { "plain" };
        let token_file = dir.path().join(format!("{name}-{variant}.jwt"));
        std::fs::write(&token_file, token).unwrap();
        let options = CHECKED;
        let verdict = verify(&token_file, &options);
        let id = format!("{name}-{variant}");
        let mut with_id = options.to_vec();
        with_id.extend(["--id", &id]);
        let flow = if *sealed { "code" } else { "implicit" };
        let (code, said) = fixture(&token_file, &out.join(format!("{id}.toml")), flow, &with_id);
        if *name == "oversize" && *sealed {
            // Through the Code Flow the platform refuses the 5 000-audience token earlier, as
            // a token response past its size limit: the replay says so.
            assert_eq!(code, 1, "{said}");
            assert!(said.contains("token_response_invalid"), "{said}");
            std::fs::remove_file(out.join(format!("{id}.toml"))).unwrap();
            return;
        }
        assert_eq!(code, 0, "{id}: {said}");
        assert!(
            said.contains(&format!("{verdict}, reproduced by run")),
            "{id}: {verdict} / {said}"
        );
        assert_reads_back_as_written(&out.join(format!("{id}.toml")));
        expected.lock().unwrap().insert(id, verdict);
    });
    // And the files, run as a user runs them.
    let outcomes = run_dir(&out);
    let expected = expected.into_inner().unwrap();
    assert_eq!(outcomes.len(), expected.len());
    for (id, verdict) in &expected {
        let (status, got, detail) = &outcomes[id];
        assert_eq!((status.as_str(), got), ("pass", verdict), "{id}: {detail}");
    }
    // The catalog's verdicts are not all one: rejections of many kinds, and authentications.
    let kinds: std::collections::HashSet<&String> = expected.values().collect();
    assert!(kinds.len() >= 20, "{kinds:?}");
}

/// Signs `header` and `payload`, exactly as written, with the fixture signing key: a token
/// made outside the project's minting.
fn sign(header: &str, payload: &str) -> String {
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let pem =
        std::fs::read_to_string(format!("{REPO}/fixtures/keys/idp-signing-1.key.pem")).unwrap();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(input.as_bytes())
        .to_vec();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Seals `signed` to the fixture platform key with josekit directly.
fn seal(signed: &str, alg: &str, enc: &str) -> String {
    let pem = std::fs::read_to_string(format!("{REPO}/fixtures/keys/platform-encryption.pub.pem"))
        .unwrap();
    let mut header = josekit::jwe::JweHeader::new();
    header.set_algorithm(alg);
    header.set_content_encryption(enc);
    header.set_content_type("JWT");
    header.set_key_id("platform-key-2026");
    header.set_claim("x-brand", Some("acme".into())).unwrap();
    let encrypter: Box<dyn josekit::jwe::JweEncrypter> = match alg {
        "RSA-OAEP" => Box::new(josekit::jwe::RSA_OAEP.encrypter_from_pem(&pem).unwrap()),
        _ => Box::new(josekit::jwe::RSA_OAEP_256.encrypter_from_pem(&pem).unwrap()),
    };
    josekit::jwe::serialize_compact(signed.as_bytes(), &header, encrypter.as_ref()).unwrap()
}

/// A payload as a brand might write it: `times` spliced in, `name` as given.
fn payload(times: &str, name: &str, extra: &str) -> String {
    format!(
        "{{\n  \"iss\": \"https://127.0.0.1:8443\",\n  \"aud\": [\"demo-client\"],\n  \"azp\": \"demo-client\",\n  \"sub\": \"108374656301234567890\",\n  \"nonce\": \"n-1\",\n  \"name\": \"{name}\",\n  \"email\": \"zoe.nunez@brand.example\",\n  {times}{extra}\n}}"
    )
}

#[test]
fn unusual_tokens_made_elsewhere_replay_through_every_flow() {
    // 2026-03-01T10:00:00Z
    let iat = 1_772_359_200_i64;
    let times = format!("\"iat\": {iat}, \"exp\": {}", iat + 3600);
    let sdes: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"type":"ctmrinfo","info":{{"customerId":"C-{i:05}","ctype":"vip","balance":{i}.5}}}},{{"type":"personal","personal":{{"firstname":"Zo\u00eb{i}","contacts":[{{"email":"z{i}@brand.example","phoneType":"HOME"}}]}}}},{{"type":"cart","total":{i}}}"#
            )
        })
        .collect();
    let google_header = format!(r#"{{"alg":"RS256","kid":"{KID}","typ":"JWT"}}"#);
    let odd_header = format!(
        "{{ \"typ\" : \"JWT\", \"kid\" : \"{KID}\", \"alg\" : \"RS256\", \"x-brand\" : {{\"tenant\":[1,2.50,\"a\"]}}, \"jku\" : \"https://brand.example/jwks\" }}"
    );
    let strict = CHECKED;
    let cases: Vec<(&str, String, Vec<&str>)> =
        vec![
        (
            "float-times",
            sign(
                &google_header,
                &payload(
                    &format!("\"iat\": {iat}.0, \"exp\": {}.250", iat + 3600),
                    "Zoe",
                    "",
                ),
            ),
            strict.to_vec(),
        ),
        (
            "string-times-refused",
            sign(
                &google_header,
                &payload(&format!("\"iat\": \"{iat}\", \"exp\": \"{}\"", iat + 3600), "Zoe", ""),
            ),
            strict.to_vec(),
        ),
        (
            "string-times-allowed",
            sign(
                &google_header,
                &payload(&format!("\"iat\": \"{iat}\", \"exp\": \"{}\"", iat + 3600), "Zoe", ""),
            ),
            [strict.as_slice(), &["--insecure-allow-string-timestamps"]].concat(),
        ),
        (
            "millisecond-times-allowed",
            sign(
                &google_header,
                &payload(
                    &format!("\"iat\": {}, \"exp\": {}", iat * 1000, (iat + 3600) * 1000),
                    "Zoe",
                    "",
                ),
            ),
            [strict.as_slice(), &["--insecure-allow-millisecond-timestamps"]].concat(),
        ),
        (
            "expired-by-a-second",
            sign(
                &google_header,
                &payload(&format!("\"iat\": {}, \"exp\": {}", iat - 3600, iat - 1), "Zoe", ""),
            ),
            [&["--leeway", "0"], strict.as_slice()].concat(),
        ),
        (
            "extra-header-members",
            sign(&odd_header, &payload(&times, "Zoe", "")),
            strict.to_vec(),
        ),
        (
            "non-ascii-names",
            sign(
                &google_header,
                &payload(
                    &times,
                    "Zo\\u00eb \u{d1}\u{fa}\u{f1}ez \u{5c71}\u{7530} \\u041c\\u0430\u{448}\u{430}",
                    ", \"given_name\": \"Zo\\u00EB\", \"locale\": \"es-419\"",
                ),
            ),
            strict.to_vec(),
        ),
        (
            "large-lp-sdes",
            sign(
                &google_header,
                &payload(&times, "Zoe", &format!(",\n  \"lp_sdes\": [{}]", sdes.join(","))),
            ),
            strict.to_vec(),
        ),
        (
            "large-lp-sdes-strict",
            sign(
                &google_header,
                &payload(&times, "Zoe", &format!(",\n  \"lp_sdes\": [{}]", sdes.join(","))),
            ),
            [strict.as_slice(), &["--lp-sdes-strict"]].concat(),
        ),
        (
            "envelope-oaep-cbc",
            seal(
                &sign(&google_header, &payload(&times, "Zo\\u00eb", "")),
                "RSA-OAEP",
                "A128CBC-HS256",
            ),
            strict.to_vec(),
        ),
        (
            "envelope-wrong-nonce",
            seal(
                &sign(&google_header, &payload(&times, "Zoe", "")),
                "RSA-OAEP-256",
                "A256GCM",
            ),
            ["--client-id", "demo-client", "--now", VERIFIED, "--nonce", "n-2"].to_vec(),
        ),
        (
            "brand-key-unknown-kid",
            sign(
                &google_header.replace(KID, "brand-key-7"),
                &payload(&times, "Zoe", ""),
            ),
            strict.to_vec(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fixtures");
    std::fs::create_dir(&out).unwrap();
    let mut verdicts = std::collections::HashMap::new();
    let mut runs = Vec::new();
    for (name, token, options) in &cases {
        let file = dir.path().join(format!("{name}.jwt"));
        std::fs::write(&file, token).unwrap();
        let verdict = verify(&file, options);
        for flow in ["implicit", "code", "popup", "popup-implicit"] {
            let id = format!("{name}-{flow}");
            runs.push((file.clone(), id.clone(), flow, options.clone()));
            verdicts.insert(id, verdict.clone());
        }
    }
    parallel(&runs, |(file, id, flow, options)| {
        let mut options = options.clone();
        options.extend(["--id", id]);
        let (code, said) = fixture(file, &out.join(format!("{id}.toml")), flow, &options);
        assert_eq!(code, 0, "{id}: {said}");
        assert_reads_back_as_written(&out.join(format!("{id}.toml")));
    });
    let outcomes = run_dir(&out);
    for (id, verdict) in &verdicts {
        let (status, got, detail) = &outcomes[id];
        assert_eq!((status.as_str(), got), ("pass", verdict), "{id}: {detail}");
    }
    // The cases are not all one verdict.
    let expect = |name: &str| verdicts[&format!("{name}-implicit")].as_str();
    assert_eq!(expect("float-times"), "authenticated");
    assert_eq!(expect("string-times-refused"), "rejected (claim_invalid)");
    assert_eq!(expect("string-times-allowed"), "authenticated");
    assert_eq!(expect("expired-by-a-second"), "rejected (expired)");
    assert_eq!(expect("large-lp-sdes"), "authenticated");
    assert_eq!(
        expect("envelope-wrong-nonce"),
        "rejected (nonce_mismatch); platform: authenticated"
    );
    assert_eq!(expect("brand-key-unknown-kid"), "rejected (unknown_kid)");

    // The shape is the original's: its spacing, member order, spellings and escapes.
    let text = std::fs::read_to_string(out.join("extra-header-members-code.toml")).unwrap();
    assert!(
        text.contains("{ \"typ\" : \"JWT\", \"kid\" : \"${kid}\", \"alg\" : \"RS256\", \"x-brand\" : {\"tenant\":[1,2.50,\"a\"]}, \"jku\" : \"https://fixture.invalid/jku\" }"),
        "{text}"
    );
    let payload_of = |id: &str| {
        let text = std::fs::read_to_string(out.join(format!("{id}.toml"))).unwrap();
        let scenario: toml::Value = toml::from_str(&text).unwrap();
        scenario["provider"]["token"]["payload"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // 2026-06-01T12:00:00Z less a minute: the minute the original was verified after.
    let payload = payload_of("float-times-implicit");
    assert!(
        payload.contains("\"iat\": 1780315140.0, \"exp\": 1780318740.250"),
        "{payload}"
    );
    let payload = payload_of("non-ascii-names-implicit");
    let name_at = payload.find("\"name\": \"").unwrap() + 9;
    let name = &payload[name_at..payload[name_at..].find('"').unwrap() + name_at];
    // "Zo\u00eb Ñúñez 山田 \u041c\u0430ша": escapes stay escapes, each letter keeps its kind.
    assert_eq!(
        name.len(),
        "Zo\\u00eb \u{d1}\u{fa}\u{f1}ez \u{5c71}\u{7530} \\u041c\\u0430\u{448}\u{430}".len(),
        "{name}"
    );
    assert!(!name.contains("Zo") && !name.contains('\u{5c71}'), "{name}");
    assert_eq!(&name[2..4], "\\u");
    assert!(payload.contains("\"locale\": \"es-419\""), "{payload}");
}

/// Every personal value of these tokens is a marker no fake can produce by chance.
const MARKERS: [&str; 9] = [
    "MARKERSUBJECT",
    "markeremail",
    "markerdomain",
    "MARKERFIRST",
    "MARKERLAST",
    "MARKERCUSTOMER",
    "MARKERSTREET",
    "MARKERACCOUNT",
    "MARKERPHONE",
];

#[test]
fn no_personal_value_signature_kid_or_encrypted_key_survives() {
    let iat = 1_772_359_200_i64;
    let payload = format!(
        r#"{{"iss":"https://127.0.0.1:8443","aud":"demo-client","sub":"MARKERSUBJECT01","email":"markeremail02@markerdomain03.example","name":"MARKERFIRST04 MARKERLAST05","given_name":"MARKERFIRST04","family_name":"MARKERLAST05","phone_number":"MARKERPHONE06","address":{{"street_address":"1 MARKERSTREET07","locality":"Oxford"}},"customer_email":"markeremail02@markerdomain03.example","account_number":"MARKERACCOUNT08","nonce":"n-1","iat":{iat},"exp":{},"lp_sdes":[{{"type":"ctmrinfo","info":{{"customerId":"MARKERCUSTOMER09","ctype":"vip","userName":"MARKERFIRST04"}}}},{{"type":"personal","personal":{{"firstname":"MARKERFIRST04","lastname":"MARKERLAST05","contacts":[{{"email":"markeremail02@markerdomain03.example","phone":"MARKERPHONE06","phoneType":"MOBILE"}}]}}}}]}}"#,
        iat + 3600
    );
    let header = r#"{"alg":"RS256","kid":"MARKERKIDBRAND10","typ":"JWT"}"#;
    let signed = sign(header, &payload);
    let sealed = seal(&signed, "RSA-OAEP-256", "A256GCM");
    // The brand's JWKS: the fixture key under the brand's kid.
    let dir = tempfile::tempdir().unwrap();
    let pem =
        std::fs::read_to_string(format!("{REPO}/fixtures/keys/idp-signing-1.pub.pem")).unwrap();
    let jwks = dir.path().join("jwks.json");
    {
        use rsa::pkcs8::DecodePublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPublicKey::from_public_key_pem(&pem).unwrap();
        let jwk = serde_json::json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "MARKERKIDBRAND10",
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }]});
        std::fs::write(&jwks, jwk.to_string()).unwrap();
    }
    for (name, token) in [("signed", &signed), ("sealed", &sealed)] {
        let file = dir.path().join(format!("{name}.jwt"));
        std::fs::write(&file, token).unwrap();
        let options = [CHECKED.as_slice(), &["--jwks", jwks.to_str().unwrap()]].concat();
        assert_eq!(verify(&file, &options), "authenticated");
        let out = dir.path().join(format!("{name}.toml"));
        let (code, said) = fixture(&file, &out, "implicit", &options);
        assert_eq!(code, 0, "{said}");
        let text = std::fs::read_to_string(&out).unwrap();
        let lower = text.to_lowercase();
        for marker in MARKERS
            .iter()
            .chain(&["MARKERKIDBRAND10", "platform-key-2026"])
        {
            assert!(
                !lower.contains(&marker.to_lowercase()),
                "{marker} in {text}"
            );
        }
        for segment in token.split('.').filter(|s| s.len() > 40) {
            // Header segments are re-encoded text; every other segment is key material or
            // ciphertext, and none may appear, nor a long piece of it.
            assert!(
                !text.contains(&segment[..40]),
                "{name}: a segment survived: {text}"
            );
        }
        let scenario: toml::Value = toml::from_str(&text).unwrap();
        // The same value has the same fake everywhere: the email in the claim, the custom
        // claim and the SDE contact.
        let payload = scenario["provider"]["token"]["payload"].as_str().unwrap();
        let claims: Value = serde_json::from_str(payload).unwrap();
        let email = claims["email"].as_str().unwrap();
        assert_eq!(claims["customer_email"], email);
        assert_eq!(
            claims["lp_sdes"][1]["personal"]["contacts"][0]["email"],
            email
        );
        assert_eq!(email.len(), "markeremail02@markerdomain03.example".len());
        assert_eq!(email.matches('@').count(), 1);
        // Codes from the platform's lists are kept: the login is the same login.
        assert_eq!(claims["lp_sdes"][0]["info"]["ctype"], "vip");
        assert_eq!(
            claims["lp_sdes"][1]["personal"]["contacts"][0]["phoneType"],
            "MOBILE"
        );
        assert_eq!(scenario["expect"]["sub"].as_str(), claims["sub"].as_str());
        // The source is the command line, which names no token.
        assert!(scenario["source"]
            .as_str()
            .unwrap()
            .starts_with("oidc-harness fixture "));
    }
}

#[test]
fn an_access_token_is_left_out_of_the_source_and_keep_keeps_named_claims() {
    let dir = tempfile::tempdir().unwrap();
    let (_, token, _) = run(&["mint", "--now", MINTED, "--nonce", "n-1"]);
    let file = dir.path().join("t.jwt");
    std::fs::write(&file, token).unwrap();
    let out = dir.path().join("t.toml");
    let (code, said) = fixture(
        &file,
        &out,
        "code",
        &[
            CHECKED.as_slice(),
            &[
                "--access-token",
                "ya29.SECRET-ACCESS-TOKEN",
                "--keep",
                "email,name",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{said}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("SECRET-ACCESS-TOKEN"), "{text}");
    assert!(text.contains("--access-token <access token>"), "{text}");
    let scenario: toml::Value = toml::from_str(&text).unwrap();
    let payload = scenario["provider"]["token"]["payload"].as_str().unwrap();
    let claims: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(claims["email"], "alice.liddell@example.com");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_ne!(claims["family_name"], "Liddell");
}

#[test]
fn a_file_that_is_no_token_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.toml");
    let (code, _, err) = run(&[
        "fixture",
        "/nonexistent.jwt",
        "--any-audience",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: /nonexistent.jwt"), "{err}");
    let (code, _, err) = run(&["fixture", "--out", out.to_str().unwrap(), "-"]);
    assert_eq!(code, 2);
    assert!(err.contains("--client-id"), "{err}");
}

#[test]
fn fake_fakes_claims_of_the_brands_own_and_is_not_keep_too() {
    let iat = 1_772_359_200_i64;
    let payload = format!(
        r#"{{"iss":"https://127.0.0.1:8443","aud":"demo-client","sub":"108374656301234567890","nonce":"n-1","iat":{iat},"exp":{},"loyalty":{{"tier":"gold","card":"MARKERCARD11","points":4821}},"ref":"MARKERREF12","lp_sdes":[{{"type":"ctmrinfo","info":{{"ctype":"vip"}}}}]}}"#,
        iat + 3600
    );
    let signed = sign(&format!(r#"{{"alg":"RS256","kid":"{KID}"}}"#), &payload);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.jwt");
    std::fs::write(&file, &signed).unwrap();
    let claims_of = |out: &Path| -> Value {
        let text = std::fs::read_to_string(out).unwrap();
        let scenario: toml::Value = toml::from_str(&text).unwrap();
        serde_json::from_str(scenario["provider"]["token"]["payload"].as_str().unwrap()).unwrap()
    };

    // Neutral names are kept unless named.
    let out = dir.path().join("plain.toml");
    let (code, said) = fixture(&file, &out, "implicit", &CHECKED);
    assert_eq!(code, 0, "{said}");
    let claims = claims_of(&out);
    assert_eq!(claims["loyalty"]["card"], "MARKERCARD11");
    assert_eq!(claims["ref"], "MARKERREF12");

    let out = dir.path().join("faked.toml");
    let options = [CHECKED.as_slice(), &["--fake", "loyalty", "--fake=ref"]].concat();
    let (code, said) = fixture(&file, &out, "implicit", &options);
    assert_eq!(code, 0, "{said}");
    let claims = claims_of(&out);
    let card = claims["loyalty"]["card"].as_str().unwrap();
    assert_ne!(card, "MARKERCARD11");
    assert_eq!(card.len(), "MARKERCARD11".len());
    assert!(card[..10].chars().all(|c| c.is_ascii_uppercase()), "{card}");
    assert_ne!(
        claims["loyalty"]["tier"], "gold",
        "everything under the name"
    );
    let points = claims["loyalty"]["points"].as_u64().unwrap();
    assert!(
        (1000..10_000).contains(&points) && points != 4821,
        "{points}"
    );
    assert_ne!(claims["ref"], "MARKERREF12");
    assert_eq!(claims["lp_sdes"][0]["info"]["ctype"], "vip");

    let (code, _, err) = run(&[
        &[
            "fixture",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        CHECKED.as_slice(),
        &["--keep", "ref", "--fake", "ref"],
    ]
    .concat());
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        "error: \"ref\" is named both to keep and to fake"
    );
}
