// Compiles escrow.fc with the pinned @ton-community/func-js and writes the code cell BOC into the
// Python package, which loads it at run time (no node needed there).
//
//   node build.mjs           compile and write src/chainfluence/ton/artifacts/escrow.code.boc
//   node build.mjs --check   compile in memory; exit 1 if the committed artifact differs
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFunc, compilerVersion } from "@ton-community/func-js";

const here = dirname(fileURLToPath(import.meta.url));
const source = "escrow.fc";
const artifact = join(here, "..", "src", "chainfluence", "ton", "artifacts", "escrow.code.boc");
const check = process.argv.includes("--check");

const unknown = process.argv.slice(2).filter((arg) => arg !== "--check");
if (unknown.length > 0) {
  console.error(`usage: node build.mjs [--check]   (unknown argument: ${unknown.join(" ")})`);
  process.exit(2);
}

const { funcVersion } = await compilerVersion();
const result = await compileFunc({
  targets: [source],
  sources: (path) => readFileSync(join(here, path), "utf8"),
});
if (result.status === "error") {
  console.error(`FunC ${funcVersion}: compiling ${source} failed:\n${result.message}`);
  process.exit(1);
}
if (result.warnings?.trim()) {
  console.warn(result.warnings);
}
const compiled = Buffer.from(result.codeBoc, "base64");
const shown = artifact.slice(join(here, "..").length + 1);

if (check) {
  if (!existsSync(artifact)) {
    console.error(`${shown} is missing: run \`make contracts\` and commit it.`);
    process.exit(1);
  }
  const committed = readFileSync(artifact);
  if (!committed.equals(compiled)) {
    console.error(
      `${shown} is stale: it is not what ${source} compiles to with FunC ${funcVersion}.\n` +
        "Run `make contracts` and commit the artifact.",
    );
    process.exit(1);
  }
  console.log(`${shown} matches ${source} (FunC ${funcVersion}, ${compiled.length} bytes).`);
} else {
  mkdirSync(dirname(artifact), { recursive: true });
  writeFileSync(artifact, compiled);
  console.log(`wrote ${shown} (FunC ${funcVersion}, ${compiled.length} bytes).`);
}
