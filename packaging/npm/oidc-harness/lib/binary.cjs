'use strict';
// Finds the oidc-harness binary: OIDC_HARNESS_BIN if set, else the one in the platform package
// that npm installed among the optional dependencies (chosen by their os, cpu and libc).

const fs = require('node:fs');
const path = require('node:path');

const SCOPE = '@oidc-harness';

/** The platform package for this machine, e.g. `@oidc-harness/linux-x64`. */
function platformPackage() {
  return `${SCOPE}/${process.platform}-${process.arch}`;
}

/** The platform packages this version was published with. */
function publishedPlatforms() {
  const manifest = require('../package.json');
  return Object.keys(manifest.optionalDependencies || {}).filter((name) =>
    name.startsWith(`${SCOPE}/`),
  );
}

function binaryPath() {
  const override = process.env.OIDC_HARNESS_BIN;
  if (override) return override;
  const name = platformPackage();
  const published = publishedPlatforms();
  if (!published.includes(name)) {
    throw new Error(
      `oidc-harness: no prebuilt binary for ${process.platform}-${process.arch} ` +
        `(published: ${published.join(', ') || 'none'}). Build one from a checkout with ` +
        '`cargo install --locked --path .` and set OIDC_HARNESS_BIN to its path.',
    );
  }
  let file;
  try {
    file = require.resolve(`${name}/bin/oidc-harness`);
  } catch {
    throw new Error(
      `oidc-harness: the platform package ${name} is not installed. It is an optional ` +
        'dependency of oidc-harness: install again without --omit=optional or ' +
        `--no-optional (a lock file made on another platform can leave it out: ` +
        `\`npm install -D ${name}\`), or set OIDC_HARNESS_BIN to an oidc-harness binary.`,
    );
  }
  // Some package managers unpack files without their mode: make the binary executable again.
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    fs.chmodSync(file, 0o755);
  }
  return path.resolve(file);
}

module.exports = { binaryPath, platformPackage };
