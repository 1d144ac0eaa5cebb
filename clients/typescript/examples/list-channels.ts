/**
 * Log in as a sandbox person and list the catalogue: `make serve`, then
 * `CHAINFLUENCE_API_URL=http://127.0.0.1:8000 npm run example`.
 *
 * In a Mini App the initData comes from `window.Telegram.WebApp.initData`; here the sandbox's
 * helper route signs it as Telegram would, for the sandbox's advertiser.
 */
import { ApiError, createChainfluence, nanoToTon } from "../src/index.js";

const baseUrl = process.env.CHAINFLUENCE_API_URL ?? "http://127.0.0.1:8000";

interface SandboxWorld {
  telegram: { people: { id: string; role: string }[] } | null;
}

async function sandboxInitData(): Promise<string> {
  const world = (await (await fetch(`${baseUrl}/v1/sandbox`)).json()) as SandboxWorld;
  const advertiser = world.telegram?.people.find((person) => person.role === "advertiser");
  if (advertiser === undefined) {
    throw new Error(`${baseUrl} is not a sandbox with its demo world`);
  }
  const minted = await fetch(`${baseUrl}/v1/sandbox/login/${advertiser.id}`, { method: "POST" });
  return ((await minted.json()) as { initData: string }).initData;
}

const api = createChainfluence({ baseUrl });
const { user } = await api.login(await sandboxInitData());
const { items, total } = await api.page(
  api.client.GET("/v1/channels", { params: { query: { limit: 10, sort: "-subscribers" } } }),
);
let missing: { status: number; code: string } | null = null;
try {
  await api.unwrap(api.client.GET("/v1/deals/{deal_id}", { params: { path: { deal_id: 999999 } } }));
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  missing = { status: error.status, code: error.code };
}
console.log(
  JSON.stringify({
    user: user.id,
    total,
    channels: items.map((channel) => ({
      id: channel.id,
      username: channel.username,
      category: channel.category,
      engagementRate: channel.engagementRate,
      cheapest: channel.minPrice === null ? null : `${channel.minPrice} TON`,
    })),
    missingDeal: missing,
    oneAndAHalfTon: nanoToTon("1500000000"),
  }),
);
