//! X.509 with rcgen: the self-signed certificates `/oauth2/v1/certs` publishes for the signing
//! keys, and the local CA plus server certificate that `serve` listens with.

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

use super::{KeyError, RsaKey};

fn cert_error(err: rcgen::Error) -> KeyError {
    KeyError::Certificate(err.to_string())
}

/// The self-signed certificate for a signing key, as Google's v1 certs endpoint serves one per
/// kid. Deterministic: the serial comes from the kid and the validity is fixed, and RSA
/// PKCS#1 v1.5 signatures are deterministic, so the same key always gives the same PEM.
pub(crate) fn signing_certificate(key: &RsaKey) -> Result<String, KeyError> {
    let pem = key
        .private_pem()
        .ok_or_else(|| KeyError::Certificate("no private key".into()))?;
    let key_pair =
        KeyPair::from_pem_and_sign_algo(pem, &rcgen::PKCS_RSA_SHA256).map_err(cert_error)?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "federated-signon.oidc-harness.invalid");
    params.distinguished_name = name;
    let serial = hex::decode(&key.kid().as_str()[..16]).unwrap_or_else(|_| vec![1]);
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    // Google's libraries never check these dates (google-oidc.md §2.4); keep them wide.
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2124, 1, 1);
    Ok(params.self_signed(&key_pair).map_err(cert_error)?.pem())
}

/// What `serve` listens with over HTTPS.
#[derive(Clone)]
pub struct TlsMaterial {
    /// The local CA certificate that clients should trust, PEM.
    pub ca_cert_pem: String,
    /// Where the CA certificate is on disk, when it was kept in a state folder.
    pub ca_path: Option<PathBuf>,
    /// The server certificate followed by the CA certificate, PEM.
    pub chain_pem: String,
    /// The server's private key, PKCS#8 PEM.
    pub key_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}

/// The CA certificate's file name in the state folder, which clients are pointed at.
pub const CA_FILE: &str = "ca.pem";

/// The names every server certificate covers, besides the issuer's host.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "oidc-harness local CA");
    name.push(DnType::OrganizationName, "oidc-harness");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2050, 1, 1);
    params
}

fn server_cert(names: &[String], ca_key: &KeyPair) -> Result<(String, String), KeyError> {
    // The CA certificate is re-made from the same parameters and key: only its name and key
    // matter for signing, so a CA kept on disk keeps working across restarts.
    let ca = ca_params().self_signed(ca_key).map_err(cert_error)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(cert_error)?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        names.first().map(String::as_str).unwrap_or("localhost"),
    );
    params.distinguished_name = name;
    params.use_authority_key_identifier_extension = true;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2050, 1, 1);
    let key = KeyPair::generate().map_err(cert_error)?;
    let cert = params.signed_by(&key, &ca, ca_key).map_err(cert_error)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Names for the server certificate: the loopback names plus `extra` (the issuer's host).
pub fn server_names(extra: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|s| (*s).to_owned()).collect();
    if let Some(host) = extra {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
    }
    names
}

/// A fresh CA and server certificate held in memory only (library mode and tests).
pub fn ephemeral(names: &[String]) -> Result<TlsMaterial, KeyError> {
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let ca_cert_pem = ca_params().self_signed(&ca_key).map_err(cert_error)?.pem();
    let (server_pem, key_pem) = server_cert(names, &ca_key)?;
    Ok(TlsMaterial {
        chain_pem: format!("{server_pem}{ca_cert_pem}"),
        ca_cert_pem,
        ca_path: None,
        key_pem,
    })
}

fn read(path: &Path) -> Result<Option<String>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io {
            path: path.to_owned(),
            error: source,
        }),
    }
}

/// Writes `text` to `path`; `secret` files are readable by their owner only.
pub(crate) fn write(path: &Path, text: &str, secret: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        error: source,
    };
    std::fs::write(path, text).map_err(io)?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

/// Loads the CA and server certificate kept in `dir`, creating whatever is missing. The CA
/// survives restarts (clients keep trusting it); the server certificate is re-issued when the
/// names it must cover change.
pub fn load_or_create(dir: &Path, names: &[String]) -> Result<TlsMaterial, KeyError> {
    std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
        path: dir.to_owned(),
        error: source,
    })?;
    let ca_path = dir.join(CA_FILE);
    let ca_key_path = dir.join("ca.key.pem");
    let server_path = dir.join("server.pem");
    let server_key_path = dir.join("server.key.pem");
    let names_path = dir.join("server.names");

    let (ca_key, ca_cert_pem) = match (read(&ca_key_path)?, read(&ca_path)?) {
        (Some(key), Some(cert)) => (KeyPair::from_pem(&key).map_err(cert_error)?, cert),
        _ => {
            let key = KeyPair::generate().map_err(cert_error)?;
            let cert = ca_params().self_signed(&key).map_err(cert_error)?.pem();
            write(&ca_key_path, &key.serialize_pem(), true)?;
            write(&ca_path, &cert, false)?;
            // A new CA invalidates any server certificate signed by an old one.
            let _ = std::fs::remove_file(&server_path);
            (key, cert)
        }
    };

    let wanted = names.join("\n");
    let kept = (
        read(&server_path)?,
        read(&server_key_path)?,
        read(&names_path)?,
    );
    let (server_pem, key_pem) = match kept {
        (Some(cert), Some(key), Some(kept_names)) if kept_names == wanted => (cert, key),
        _ => {
            let (cert, key) = server_cert(names, &ca_key)?;
            write(&server_key_path, &key, true)?;
            write(&server_path, &cert, false)?;
            write(&names_path, &wanted, false)?;
            (cert, key)
        }
    };
    Ok(TlsMaterial {
        chain_pem: format!("{server_pem}{ca_cert_pem}"),
        ca_cert_pem,
        ca_path: Some(ca_path),
        key_pem,
    })
}
