#!/usr/bin/env node
// Lays out the npm packages, ready for `npm pack` or `npm publish`, from a release binary:
//
//   node packaging/npm/stage.mjs --binary target/release/oidc-harness --out target/npm
//
// writes OUT/oidc-harness (the main package) and OUT/<platform> (e.g. OUT/linux-x64, the
// package @oidc-harness/linux-x64 with the binary, stripped when `strip` is on PATH). Both get
// the crate's version from Cargo.toml, and the main package depends on that exact version of
// the platform package: no version is written by hand.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const { values } = parseArgs({
  options: {
    binary: { type: 'string', default: path.join(repo, 'target/release/oidc-harness') },
    out: { type: 'string', default: path.join(repo, 'target/npm') },
    // The binary's platform, as Node names it: `${process.platform}-${process.arch}`.
    platform: { type: 'string', default: `${process.platform}-${process.arch}` },
  },
});

function fail(message) {
  process.stderr.write(`stage.mjs: ${message}\n`);
  process.exit(1);
}

/** `version` in Cargo.toml's [package] table. */
function crateVersion() {
  const manifest = fs.readFileSync(path.join(repo, 'Cargo.toml'), 'utf8');
  const table = manifest.split(/^\[/m).find((section) => section.startsWith('package]'));
  const version = table && /^version\s*=\s*"([^"]+)"/m.exec(table);
  if (!version) fail('no version in the [package] table of Cargo.toml');
  return version[1];
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

const version = crateVersion();
const [os, cpu] = values.platform.split('-');
if (!os || !cpu) fail(`--platform ${values.platform}: expected <os>-<cpu>, e.g. linux-x64`);
if (!fs.existsSync(values.binary)) fail(`--binary ${values.binary}: no such file`);
const platformName = `@oidc-harness/${values.platform}`;
const out = path.resolve(values.out);
fs.rmSync(out, { recursive: true, force: true });

// The platform package: the binary and nothing else.
const platformDir = path.join(out, values.platform);
fs.mkdirSync(path.join(platformDir, 'bin'), { recursive: true });
const binary = path.join(platformDir, 'bin', 'oidc-harness');
fs.copyFileSync(values.binary, binary);
try {
  execFileSync('strip', [binary], { stdio: 'ignore' });
} catch {
  // No strip here: the binary keeps its line tables, which only makes the package larger.
}
fs.chmodSync(binary, 0o755);
const main = JSON.parse(fs.readFileSync(path.join(here, 'oidc-harness/package.json'), 'utf8'));
writeJson(path.join(platformDir, 'package.json'), {
  name: platformName,
  version,
  description: `The oidc-harness binary for ${values.platform}: install oidc-harness instead`,
  license: main.license,
  os: [os],
  cpu: [cpu],
  // The binary links glibc and OpenSSL 3 (libssl.so.3) dynamically.
  ...(os === 'linux' ? { libc: ['glibc'] } : {}),
  files: ['bin/oidc-harness'],
  preferUnplugged: true,
});
fs.writeFileSync(
  path.join(platformDir, 'README.md'),
  `# ${platformName}\n\nThe \`oidc-harness\` binary for ${values.platform}. Install ` +
    '[`oidc-harness`](https://www.npmjs.com/package/oidc-harness) instead: it depends on this ' +
    'package and runs the binary.\n',
);

// The main package: the launcher and startProvider(), depending on the platform package.
const mainDir = path.join(out, 'oidc-harness');
fs.cpSync(path.join(here, 'oidc-harness'), mainDir, { recursive: true });
fs.copyFileSync(path.join(here, 'README.md'), path.join(mainDir, 'README.md'));
writeJson(path.join(mainDir, 'package.json'), {
  name: main.name,
  version,
  ...main,
  optionalDependencies: { [platformName]: version },
});

process.stdout.write(`${platformDir}\n${mainDir}\n`);
