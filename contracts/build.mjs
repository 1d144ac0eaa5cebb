// Compiles the escrow contracts with their pinned compilers and writes each code cell BOC into the
// Python package, which loads them at run time (no node needed there):
//
//   escrow.fc       (version 1, FunC, @ton-community/func-js)  -> escrow.code.boc
//   escrow-v2.tolk  (version 2, Tolk, @ton/tolk-js)            -> escrow-v2.code.boc
//
//   node build.mjs           compile and write src/chainfluence/ton/artifacts/*.code.boc
//   node build.mjs --check   compile in memory; exit 1 if a committed artifact differs
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFunc, compilerVersion } from "@ton-community/func-js";
import { getTolkCompilerVersion, runTolkCompiler } from "@ton/tolk-js";

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, "..", "src", "chainfluence", "ton", "artifacts");
const check = process.argv.includes("--check");

const unknown = process.argv.slice(2).filter((arg) => arg !== "--check");
if (unknown.length > 0) {
  console.error(`usage: node build.mjs [--check]   (unknown argument: ${unknown.join(" ")})`);
  process.exit(2);
}

const read = (path) => readFileSync(join(here, path), "utf8");

async function compileV1(source) {
  const { funcVersion } = await compilerVersion();
  const result = await compileFunc({ targets: [source], sources: read });
  if (result.status === "error") {
    return { compiler: `FunC ${funcVersion}`, error: result.message };
  }
  return { compiler: `FunC ${funcVersion}`, warnings: result.warnings, boc: result.codeBoc };
}

async function compileV2(source) {
  const compiler = `Tolk ${await getTolkCompilerVersion()}`;
  const result = await runTolkCompiler({ entrypointFileName: source, fsReadCallback: read });
  if (result.status === "error") {
    return { compiler, error: result.message };
  }
  return { compiler, warnings: result.stderr, boc: result.codeBoc64 };
}

const targets = [
  { source: "escrow.fc", artifact: "escrow.code.boc", compile: compileV1 },
  { source: "escrow-v2.tolk", artifact: "escrow-v2.code.boc", compile: compileV2 },
];

let failed = false;
for (const { source, artifact, compile } of targets) {
  const path = join(artifacts, artifact);
  const shown = path.slice(join(here, "..").length + 1);
  const result = await compile(source);
  if (result.error !== undefined) {
    console.error(`${result.compiler}: compiling ${source} failed:\n${result.error}`);
    failed = true;
    continue;
  }
  if (result.warnings?.trim()) {
    console.warn(result.warnings);
  }
  const compiled = Buffer.from(result.boc, "base64");
  if (check) {
    if (!existsSync(path)) {
      console.error(`${shown} is missing: run \`make contracts\` and commit it.`);
      failed = true;
    } else if (!readFileSync(path).equals(compiled)) {
      console.error(
        `${shown} is stale: it is not what ${source} compiles to with ${result.compiler}.\n` +
          "Run `make contracts` and commit the artifact.",
      );
      failed = true;
    } else {
      console.log(`${shown} matches ${source} (${result.compiler}, ${compiled.length} bytes).`);
    }
  } else {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(path, compiled);
    console.log(`wrote ${shown} (${result.compiler}, ${compiled.length} bytes).`);
  }
}
process.exit(failed ? 1 : 0);
