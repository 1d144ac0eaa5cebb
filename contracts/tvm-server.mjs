// The TVM of the pinned @ton/sandbox (TON's own emulator, compiled to WebAssembly) behind a pipe,
// for the Python side (`chainfluence_sandbox.tvm`): one JSON request per line on stdin, one JSON
// reply per line on stdout, in order. Started once per Python process; it exits when stdin closes.
//
// Requests (`id` is echoed back; BOCs are base64):
//   {"id", "op": "version"}
//   {"id", "op": "default_config"}                          -> {"seqno", "config"} (mainnet's)
//   {"id", "op": "config", "config"}                        -> {"config_id"}  (register once)
//   {"id", "op": "transaction", "config_id", "shard_account", "message", "now", "lt",
//    "ignore_chksig", "verbosity"}
//   {"id", "op": "get_method", "config_id", "code", "data", "address", "method_id", "stack",
//    "now", "balance", "gas_limit", "verbosity"}
// Replies: {"id", "ok": true, ...result} or {"id", "ok": false, "error"} (a fault of the request,
// not of the contract: contract failures are results).
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { Address, Cell, parseTuple } from "@ton/core";
import { Executor, defaultConfig, defaultConfigSeqno } from "@ton/sandbox";

// stdout carries the replies and nothing else: anything printed (the WebAssembly runtime's own
// messages included) goes to stderr.
console.log = console.info = console.warn = console.debug = console.error;

const require = createRequire(import.meta.url);
const sandboxVersion = require("@ton/sandbox/package.json").version;

const VERBOSITY = ["short", "full", "full_location", "full_location_gas", "full_location_stack"];
const RANDOM_SEED = Buffer.alloc(32); // fixed so runs are reproducible

const executor = await Executor.create();
const configs = [];

function verbosity(level) {
  return VERBOSITY[Math.max(0, Math.min(VERBOSITY.length - 1, level ?? 0))];
}

function config(request) {
  const found = configs[request.config_id];
  if (found === undefined) throw new Error(`unknown config_id ${request.config_id}`);
  return found;
}

async function handle(request) {
  switch (request.op) {
    case "version": {
      const { commitHash, commitDate } = executor.getVersion();
      return { sandbox: sandboxVersion, commit_hash: commitHash, commit_date: commitDate };
    }
    case "default_config":
      return { seqno: defaultConfigSeqno, config: defaultConfig };
    case "config": {
      Cell.fromBase64(request.config); // refuse garbage here rather than in the emulator
      configs.push(request.config);
      return { config_id: configs.length - 1 };
    }
    case "transaction": {
      const { result } = await executor.runTransaction({
        config: config(request),
        libs: null,
        verbosity: verbosity(request.verbosity),
        shardAccount: request.shard_account,
        message: Cell.fromBase64(request.message),
        now: request.now,
        lt: BigInt(request.lt),
        randomSeed: RANDOM_SEED,
        ignoreChksig: Boolean(request.ignore_chksig),
        debugEnabled: false,
      });
      if (result.success) {
        return {
          success: true,
          transaction: result.transaction,
          shard_account: result.shardAccount,
          vm_log: result.vmLog,
        };
      }
      // The emulator reports VM results on a failure only when an external message was not
      // accepted (no transaction then); any other failure is the emulator refusing its input.
      return {
        success: false,
        error: result.error,
        external_not_accepted: result.vmResults !== undefined,
        vm_exit_code: result.vmResults?.vmExitCode ?? 0,
        vm_log: result.vmResults?.vmLog ?? "",
      };
    }
    case "get_method": {
      const { output } = await executor.runGetMethod({
        code: Cell.fromBase64(request.code),
        data: Cell.fromBase64(request.data),
        methodId: request.method_id,
        stack: parseTuple(Cell.fromBase64(request.stack)),
        config: config(request),
        verbosity: verbosity(request.verbosity),
        address: Address.parse(request.address),
        unixTime: request.now,
        balance: BigInt(request.balance),
        randomSeed: RANDOM_SEED,
        gasLimit: BigInt(request.gas_limit),
        debugEnabled: false,
      });
      return output;
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(request.op)}`);
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let id = null;
  let reply;
  try {
    const request = JSON.parse(line);
    id = request.id ?? null;
    reply = { id, ok: true, ...(await handle(request)) };
  } catch (error) {
    reply = { id, ok: false, error: String(error?.stack ?? error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
