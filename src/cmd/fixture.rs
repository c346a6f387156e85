//! `fixture`: a real token kept as a scenario, without the brand's key or customer data.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{FixtureArgs, FixtureFlow};

use super::verify::{read_token, runtime, source_line, verifier_config, verify_context};

pub(crate) fn fixture(args: FixtureArgs) -> anyhow::Result<ExitCode> {
    use oidc_harness::scenario::fixture::{make, reproduced, FixtureOptions, Original};
    use oidc_harness::scenario::FlowKind;
    let original = Original {
        token: read_token(&args.input)?,
        config: verifier_config(&args.check)?,
        ctx: verify_context(&args.check)?,
    };
    let options = FixtureOptions {
        flow: match args.flow {
            FixtureFlow::Code => FlowKind::Code,
            FixtureFlow::Implicit => FlowKind::Implicit,
            FixtureFlow::Popup => FlowKind::Popup,
            FixtureFlow::PopupImplicit => FlowKind::PopupImplicit,
            FixtureFlow::Mobile => FlowKind::Mobile,
        },
        keep: args.keep,
        fake: args.fake,
        id: args.id,
        source: source_line(),
    };
    let fixture = runtime()?
        .block_on(make(original, &options))
        .map_err(|e| anyhow::anyhow!(e))?;
    std::fs::write(&args.out, &fixture.text).with_context(|| format!("{}", args.out.display()))?;
    for note in &fixture.notes {
        eprintln!("note: {note}");
    }
    if reproduced(&fixture) {
        out!(
            "wrote {}: {}, reproduced by run",
            args.out.display(),
            fixture.expected
        );
        Ok(ExitCode::SUCCESS)
    } else {
        let got = match (fixture.replay.verdict, fixture.replay.reason) {
            (_, Some(reason)) => format!("rejected ({reason})"),
            (Some(_), None) => "authenticated".to_owned(),
            (None, None) => "no verdict".to_owned(),
        };
        out!(
            "wrote {}: the original was {}, but the file run gets {got}: {}",
            args.out.display(),
            fixture.expected,
            fixture.replay.detail
        );
        Ok(ExitCode::from(1))
    }
}
