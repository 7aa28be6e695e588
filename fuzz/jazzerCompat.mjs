// Makes Jazzer.js's libFuzzer addon load on this project's machines.
//
// @jazzer.js/fuzzer 4.0.0 ships its native addon prebuilt inside the npm package (older
// releases download it from GitHub at install, which cannot work here), but that build
// was linked against glibc 2.38 and GCC 13's libstdc++, and Debian 12 has glibc 2.36 and
// GCC 12. It asks the newer runtimes for three functions only (`objdump -T` of the
// addon: `__isoc23_strtol`, `__isoc23_strtoul` from GLIBC_2.38 and
// `std::ios_base_library_init` from GLIBCXX_3.4.32). So, when the addon does not load
// for exactly that reason, this module
//   1. compiles fuzz/compat/jazzerGlibcShim.cc (those three functions) with g++ into
//      .fuzz/compat/libjazzerGlibcShim.so, preloaded into the fuzzing process
//      (LD_PRELOAD), and
//   2. marks the addon's two version requirements weak (ELF `VER_FLG_WEAK` on their
//      `Vernaux` entries in `.gnu.version_r`), so that the dynamic loader no longer
//      refuses it; the three symbols then bind to the preloaded shim.
// The edit is in place, in node_modules (`npm ci` restores the original), flips two
// flag bits and nothing else, and is checked by loading the addon afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The versions the shim stands in for. */
const shimmedVersions = new Set(['GLIBC_2.38', 'GLIBCXX_3.4.32']);
const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

/** Path of the addon file @jazzer.js/fuzzer loads on this platform. */
function addonPath(root) {
  const require = createRequire(join(root, 'package.json'));
  const fuzzerPackage = dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
  return join(fuzzerPackage, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

/** Loads the addon in a child process; returns undefined when it loads, else the error text. */
function loadError(root, env) {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonPath(root))})`], {
    cwd: root,
    // Every symbol bound at load, so that one the shim lacks fails here, not mid-run.
    env: { ...process.env, ...env, LD_BIND_NOW: '1' },
    encoding: 'utf8',
  });
  return probe.status === 0 ? undefined : `${probe.stderr}`.trim() || `exit ${probe.status}`;
}

/**
 * Counts the `.gnu.version_r` entries naming one of `versions`; with `weaken`, sets
 * VER_FLG_WEAK on them and writes the file back when one was not weak yet.
 */
function versionNeeds(file, versions, weaken) {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
  const sectionOffset = Number(elf.readBigUInt64LE(0x28));
  const sectionSize = elf.readUInt16LE(0x3a);
  const sectionCount = elf.readUInt16LE(0x3c);
  const section = (i) => {
    const at = sectionOffset + i * sectionSize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), link: elf.readUInt32LE(at + 0x28), info: elf.readUInt32LE(at + 0x2c) };
  };
  let found = 0;
  let changed = false;
  for (let i = 0; i < sectionCount; i++) {
    const needs = section(i);
    if (needs.type !== SHT_GNU_VERNEED) continue;
    const strings = section(needs.link).offset;
    const name = (offset) => elf.toString('latin1', strings + offset, elf.indexOf(0, strings + offset));
    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32;
    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
    let need = needs.offset;
    for (let n = 0; n < needs.info; n++) {
      let aux = need + elf.readUInt32LE(need + 8);
      for (let a = 0; a < elf.readUInt16LE(need + 2); a++) {
        const flags = elf.readUInt16LE(aux + 4);
        if (versions.has(name(elf.readUInt32LE(aux + 8)))) {
          found++;
          if (weaken && (flags & VER_FLG_WEAK) === 0) {
            elf.writeUInt16LE(flags | VER_FLG_WEAK, aux + 4);
            changed = true;
          }
        }
        aux += elf.readUInt32LE(aux + 12);
      }
      need += elf.readUInt32LE(need + 12);
    }
  }
  if (changed) writeFileSync(file, elf);
  return found;
}

/** Builds the shim library when it is missing or older than its source; returns its path. */
function buildShim(root) {
  const source = join(root, 'fuzz', 'compat', 'jazzerGlibcShim.cc');
  const library = join(root, '.fuzz', 'compat', 'libjazzerGlibcShim.so');
  if (existsSync(library) && statSync(library).mtimeMs >= statSync(source).mtimeMs) return library;
  mkdirSync(dirname(library), { recursive: true });
  const build = spawnSync('g++', ['-shared', '-fPIC', '-O2', '-o', library, source], { encoding: 'utf8' });
  if (build.error || build.status !== 0) {
    throw new Error(`could not build the Jazzer.js compatibility shim with g++ (apt-get install g++): ${build.error?.message ?? build.stderr}`);
  }
  return library;
}

/** True when this process runs on a glibc older than 2.38 (the one the addon was built against). */
function olderGlibc() {
  const version = process.report.getReport().header.glibcVersionRuntime;
  if (version === undefined) return false;
  const [major, minor] = version.split('.').map(Number);
  return major < 2 || (major === 2 && minor < 38);
}

/**
 * Makes the Jazzer.js addon loadable and returns the environment the fuzzing process
 * needs for it (empty when the machine's runtime is new enough). Throws with the
 * loader's message when the addon still does not load with every symbol bound.
 */
export function prepareJazzer(root) {
  const addon = addonPath(root);
  let env = {};
  if (olderGlibc() && versionNeeds(addon, shimmedVersions, false) > 0) {
    env = { LD_PRELOAD: buildShim(root) };
    versionNeeds(addon, shimmedVersions, true);
  }
  const error = loadError(root, env);
  if (error !== undefined) throw new Error(`the Jazzer.js fuzzer addon does not load on this machine:\n${error}`);
  return env;
}
