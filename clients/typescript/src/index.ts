/**
 * A thin typed wrapper over the generated Chainfluence API types (`schema.d.ts`, from the app's
 * OpenAPI document) and openapi-fetch: log in with Telegram initData, send the token on every
 * request, turn error answers into `ApiError`, read list totals from `X-Total-Count`, and convert
 * nanoton strings exactly.
 *
 *   const api = createChainfluence({ baseUrl: "https://api.example.com" });
 *   await api.login(window.Telegram.WebApp.initData);
 *   const { items, total } = await api.page(api.client.GET("/v1/channels", {
 *     params: { query: { category: "crypto", limit: 20 } },
 *   }));
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export type Schemas = components["schemas"];
export type User = Schemas["User"];
export type Channel = Schemas["Channel"];
export type Campaign = Schemas["Campaign"];
export type Offer = Schemas["Offer"];
export type Deal = Schemas["Deal"];
export type Notification = Schemas["Notification"];
export type PaymentRequest = Schemas["PaymentRequest"];
export type Category = Schemas["Category"];
export type ErrorBody = Schemas["Error"];
export type LoginResponse = Schemas["LoginResponse"];

/** Header carrying the total of a paginated list. */
export const TOTAL_COUNT_HEADER = "X-Total-Count";

/** A non-2xx answer: `message` is a sentence to show a person, `code` is stable for programs. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ErrorBody | undefined;

  constructor(status: number, body: ErrorBody | undefined) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.body = body;
  }
}

/** What openapi-fetch resolves to: `data` on success, `error` (the error body) otherwise. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { message?: unknown }).message === "string" &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

function checked<T>({ data, error, response }: FetchResult<T>): T {
  if (!response.ok) {
    throw new ApiError(response.status, isErrorBody(error) ? error : undefined);
  }
  return data as T;
}

/** The answer's data, or an `ApiError` thrown for a non-2xx answer. */
export async function unwrap<T>(request: Promise<FetchResult<T>>): Promise<T> {
  return checked(await request);
}

/** A page of a list and the list's total (`X-Total-Count`). */
export interface Page<T> {
  items: T[];
  total: number;
}

/** A list answer with its total; pass `limit` (at most 200) and `offset` in the query. */
export async function page<T>(request: Promise<FetchResult<T[]>>): Promise<Page<T>> {
  const result = await request;
  const items = checked(result);
  const header = result.response.headers.get(TOTAL_COUNT_HEADER);
  return { items, total: header === null ? items.length : Number(header) };
}

const NANO_PER_TON = 1_000_000_000n;

/** "1500000000" → "1.5": a nanoton string as an exact TON decimal (no floating point). */
export function nanoToTon(nano: string): string {
  const value = BigInt(nano);
  const sign = value < 0n ? "-" : "";
  const magnitude = value < 0n ? -value : value;
  const whole = magnitude / NANO_PER_TON;
  const fraction = (magnitude % NANO_PER_TON).toString().padStart(9, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** "1.5" → "1500000000": a TON decimal (at most 9 places) as a nanoton string. */
export function tonToNano(ton: string): string {
  const match = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(ton.trim());
  if (match === null) {
    throw new RangeError(`not a TON amount with at most 9 decimals: ${JSON.stringify(ton)}`);
  }
  const [, sign = "", whole = "0", fraction = ""] = match;
  const nano = BigInt(whole) * NANO_PER_TON + BigInt(fraction.padEnd(9, "0"));
  return `${sign === "-" && nano !== 0n ? "-" : ""}${nano}`;
}

export interface ChainfluenceOptions {
  /** Where the API is served, without `/v1` (e.g. "https://api.example.com"). */
  baseUrl: string;
  /** An access token from an earlier `login`. */
  token?: string;
  /** Another `fetch` (tests, server-side rendering). */
  fetch?: typeof globalThis.fetch;
}

export interface Chainfluence {
  /** The typed openapi-fetch client: `client.GET("/v1/deals/{deal_id}", ...)`. */
  readonly client: Client<paths>;
  /** The access token sent as `Authorization: Bearer …`, if logged in. */
  readonly token: string | null;
  setToken(token: string | null): void;
  /** Exchange Telegram's initData for an access token, used from then on. */
  login(initData: string): Promise<LoginResponse>;
  /**
   * A URL for `new EventSource(url)` on GET /v1/events with a fresh single-purpose ticket (an
   * EventSource sends no headers). The ticket is short-lived: on an error, close the source and
   * open a new one with a new URL, passing the last event's id to replay what was missed.
   */
  eventsUrl(lastEventId?: string): Promise<string>;
  unwrap: typeof unwrap;
  page: typeof page;
}

export function createChainfluence(options: ChainfluenceOptions): Chainfluence {
  let token: string | null = options.token ?? null;
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const client = createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      if (token !== null && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(auth);
  return {
    client,
    get token() {
      return token;
    },
    setToken(value) {
      token = value;
    },
    async login(initData) {
      const answer = await unwrap(client.POST("/v1/auth/login", { body: { initData } }));
      token = answer.access_token;
      return answer;
    },
    async eventsUrl(lastEventId) {
      const { ticket } = await unwrap(client.POST("/v1/events/ticket"));
      const url = new URL(`${baseUrl}/v1/events`);
      url.searchParams.set("ticket", ticket);
      if (lastEventId !== undefined) url.searchParams.set("lastEventId", lastEventId);
      return url.toString();
    },
    unwrap,
    page,
  };
}
