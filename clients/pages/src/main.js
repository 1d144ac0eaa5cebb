// The pay and wallet pages (served by the API under /app). Each page reads its settings from the
// JSON in #chainfluence-config, logs in with Telegram's initData and then acts through the API.
// The status element carries `data-state`, the page's current state by name.
import { TonConnect, TonConnectUI, toUserFriendlyAddress } from '@tonconnect/ui';

const config = JSON.parse(document.getElementById('chainfluence-config').textContent);
const TOKEN_KEY = 'chainfluence.accessToken';
const NANO = 1_000_000_000n;

// ---- showing things --------------------------------------------------------------------------

const statusBox = document.getElementById('status');
const actions = document.getElementById('actions');
const details = document.getElementById('details');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function show(state, kind, ...message) {
  statusBox.dataset.state = state;
  statusBox.dataset.kind = kind;
  statusBox.replaceChildren(...message);
}

function button(id, text, onclick) {
  return el('button', { id, type: 'button', onclick }, text);
}

function list(rows) {
  const dl = el('dl');
  for (const [term, value, id] of rows) {
    dl.append(el('dt', {}, term), el('dd', id ? { id } : {}, value ?? '—'));
  }
  return dl;
}

/** Nanotons (a decimal string) as TON, exactly: "10000000000" -> "10". */
export function formatTon(nanoString) {
  const nano = BigInt(nanoString);
  const sign = nano < 0n ? '-' : '';
  const abs = nano < 0n ? -nano : nano;
  const whole = abs / NANO;
  const fraction = (abs % NANO).toString().padStart(9, '0').replace(/0+$/, '');
  return sign + whole.toString() + (fraction ? '.' + fraction : '');
}

function when(iso) {
  return iso ? new Date(iso).toUTCString() : '—';
}

// ---- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

let token = null;

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Telegram's initData: from its WebApp script when present, else from the launch URL's
 * fragment (`#tgWebAppData=…`), which is where Telegram puts it when it opens a Mini App. */
function initData() {
  const webApp = window.Telegram && window.Telegram.WebApp;
  if (webApp && webApp.initData) return webApp.initData;
  return new URLSearchParams(window.location.hash.slice(1)).get('tgWebAppData');
}

/** Logs in with initData; without it, reuses this tab's earlier login. False: show the bot. */
async function login() {
  const data = initData();
  if (data) {
    const answer = await api('POST', '/v1/auth/login', { initData: data });
    token = answer.access_token;
    sessionStorage.setItem(TOKEN_KEY, token);
    // The fragment holds a credential: keep it out of the address bar and history.
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return true;
  }
  token = sessionStorage.getItem(TOKEN_KEY);
  return Boolean(token);
}

function showLogin() {
  show(
    'login',
    'warning',
    'Open this page from Telegram to log in: ',
    el('a', { id: 'bot-link', href: config.botLink }, 'open Chainfluence in Telegram'),
    '.',
  );
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
    return;
  }
  show('error', 'error', error.message || String(error));
}

// ---- TON Connect -------------------------------------------------------------------------------

/** True inside a wallet's in-app browser: a JS-bridge wallet is injected into the page. */
function insideWalletBrowser() {
  return Object.values(window).some((value) => {
    try {
      return Boolean(value && value.tonconnect && value.tonconnect.isWalletBrowser);
    } catch {
      return false;
    }
  });
}

function tonConnect() {
  // No analytics: nothing about our users goes to TON Connect's servers. The sandbox names a
  // wallets list of its own (its wallet app, injected into a browser); it is used only inside
  // such a browser, so elsewhere the usual wallets (TON's official list) stay on offer.
  const ownList = config.walletsListSource && insideWalletBrowser();
  const connector = new TonConnect({
    manifestUrl: config.manifestUrl,
    analytics: { mode: 'off' },
    ...(ownList
      ? { walletsListSource: new URL(config.walletsListSource, window.location.href).href }
      : {}),
  });
  return new TonConnectUI({ connector, buttonRootId: 'ton-connect' });
}

function rawAddress(address) {
  // TON Connect hands out raw addresses (`0:<hex>`); ours compare lower-case.
  return String(address).toLowerCase();
}

function friendlyAddress(raw) {
  return toUserFriendlyAddress(raw, config.network === 'testnet');
}

// ---- the wallet page ---------------------------------------------------------------------------

async function walletPage() {
  let me = await api('GET', '/v1/users/me');
  const ui = tonConnect();
  const renderLinked = () => {
    details.replaceChildren(
      list([
        ['Linked wallet', me.walletAddress, 'linked-wallet'],
        ['Raw', me.walletAddressRaw, 'linked-wallet-raw'],
      ]),
    );
  };
  renderLinked();
  let challenge = null;
  const askChallenge = async () => {
    ui.setConnectRequestParameters({ state: 'loading' });
    challenge = await api('GET', '/v1/wallet/ton-proof/payload');
    ui.setConnectRequestParameters({ state: 'ready', value: { tonProof: challenge.payload } });
  };
  const ready = () => {
    show(
      me.walletAddress ? 'linked' : 'ready',
      me.walletAddress ? 'ok' : 'info',
      me.walletAddress
        ? 'Your wallet is linked. Connect another one to replace it.'
        : 'Connect your TON wallet and prove you own it: refunds and payouts go only there.',
    );
    actions.replaceChildren(button('connect', 'Connect wallet', () => ui.openModal()));
  };

  ui.onStatusChange(
    async (wallet) => {
      if (!wallet) return;
      const proofItem = wallet.connectItems && wallet.connectItems.tonProof;
      if (!proofItem) {
        // A connection restored from an earlier visit carries no fresh proof: ask for one.
        show('reconnect', 'info', 'Connected without a fresh proof; connect again to link it.');
        await ui.disconnect();
        await askChallenge();
        ready();
        return;
      }
      if (!('proof' in proofItem)) {
        show('error', 'error', `The wallet did not prove ownership: ${proofItem.error.message}`);
        return;
      }
      if (!config.acceptedChains.includes(String(wallet.account.chain))) {
        show(
          'wrong-network',
          'error',
          `This wallet is on another TON network (chain ${wallet.account.chain}); switch it to ` +
            `${config.network} (chain ${config.acceptedChains.join(' or ')}) and connect again.`,
        );
        await ui.disconnect();
        await askChallenge();
        actions.replaceChildren(button('connect', 'Connect wallet', () => ui.openModal()));
        return;
      }
      show('linking', 'info', 'Checking the proof…');
      try {
        me = await api('POST', '/v1/users/me/wallet', {
          address: wallet.account.address,
          network: wallet.account.chain,
          publicKey: wallet.account.publicKey,
          stateInit: wallet.account.walletStateInit,
          proof: proofItem.proof,
        });
        renderLinked();
        show('linked', 'ok', 'Wallet linked: ', el('code', {}, me.walletAddress));
      } catch (error) {
        showError(error);
        await ui.disconnect();
        await askChallenge();
        actions.replaceChildren(button('connect', 'Connect wallet', () => ui.openModal()));
      }
    },
    (error) => show('error', 'error', `The wallet refused to connect: ${error.message}`),
  );

  await ui.connectionRestored;
  if (!ui.connected) {
    await askChallenge();
    ready();
  }
}

// ---- the pay page ------------------------------------------------------------------------------

const PAID_STATUSES = new Set([
  'in_escrow', 'live', 'edit_pending', 'verified', 'released', 'disputed', 'splitting', 'split',
  'refunding', 'refunded',
]);

function renderDeal(deal) {
  const rows = [
    ['Deal', `#${deal.id} (${deal.format})`],
    ['Status', deal.status, 'deal-status'],
    ['Price', `${formatTon(deal.amountNano)} TON`, 'deal-price'],
    ['Paid into escrow', `${formatTon(deal.depositedNano)} TON`, 'deal-deposited'],
    ['Still missing', `${formatTon(deal.missingNano)} TON`, 'deal-missing'],
    ['Pay before', when(deal.depositDeadlineAt), 'deal-deposit-deadline'],
    ['Post by', when(deal.postingDeadlineAt || deal.scheduledAt)],
  ];
  return list(rows);
}

function renderTerms(payment) {
  const t = payment.terms;
  return el(
    'section',
    { id: 'terms' },
    el('h2', {}, 'Escrow terms'),
    list([
      ['Escrow address', payment.address, 'escrow-address'],
      ['Raw', payment.rawAddress, 'escrow-address-raw'],
      ['Deposit (the whole price)', `${formatTon(payment.amountNano)} TON`, 'pay-amount'],
      ['Platform fee', `${formatTon(t.feeNano)} TON`, 'terms-fee'],
      ['Publisher receives', `${formatTon(t.publisherPayoutNano)} TON`, 'terms-payout'],
      ['Payout to (publisher)', t.publisherAddress, 'terms-publisher'],
      ['Refund to (you)', t.advertiserAddress, 'terms-advertiser'],
      ['Arbiter (platform)', t.platformAddress],
      ['Fee recipient', t.feeRecipient],
      ['Refundable by anyone after', when(t.refundAfter), 'terms-refund-after'],
      ['Contract', `version ${t.contractVersion}, code hash ${t.codeHash}`],
    ]),
    el(
      'p',
      {},
      'How to check the address: the escrow is a contract whose address is the hash of its ' +
        'StateInit (the contract code with the hash above and these terms as data). Decode the ' +
        'StateInit sent with the payment (base64 BOC), compare its code hash and data with the ' +
        'terms above, and its cell hash with the raw address: 0:<hash>.',
    ),
    el('details', {}, el('summary', {}, 'StateInit (base64 BOC)'), el('code', { id: 'state-init' }, payment.stateInit)),
  );
}

async function payPage() {
  const dealId = config.dealId;
  let deal = await api('GET', `/v1/deals/${dealId}`);
  const dealBox = el('section', { id: 'deal' });
  const termsBox = el('div');
  details.replaceChildren(dealBox, termsBox);
  const refresh = async () => {
    deal = await api('GET', `/v1/deals/${dealId}`);
    dealBox.replaceChildren(renderDeal(deal));
    return deal;
  };
  dealBox.replaceChildren(renderDeal(deal));

  const settled = () => {
    const expired = (deal.timeline || []).some((entry) => entry.event === 'deposit_expired');
    if (expired) {
      show('expired', 'error', 'The time to pay for this deal has passed; it takes no payment now.');
    } else if (deal.status === 'in_escrow') {
      show('paid', 'ok', `Paid: ${formatTon(deal.depositedNano)} TON is held in escrow. The deal is in escrow.`);
    } else if (PAID_STATUSES.has(deal.status)) {
      show('already-paid', 'ok', `This deal is already paid (${deal.status.replace('_', ' ')}).`);
    } else {
      show('not-payable', 'warning', `This deal is ${deal.status.replace('_', ' ')}: it takes no payment.`);
    }
    actions.replaceChildren();
  };
  if (deal.status !== 'pending') {
    if (deal.status === 'in_escrow') show('already-paid', 'ok', 'This deal is already paid: it is in escrow.');
    else settled();
    return;
  }

  const showPartial = () => {
    show(
      'partial',
      'warning',
      `Partly paid: ${formatTon(deal.depositedNano)} TON of ${formatTon(deal.amountNano)} TON arrived; ` +
        `send the missing ${formatTon(deal.missingNano)} TON to the same escrow.`,
    );
  };

  // Follow the deal live before anything is sent, so no change can slip between.
  followDeal(dealId, async () => {
    await refresh();
    if (deal.status !== 'pending') settled();
    else if (BigInt(deal.depositedNano) > 0n) showPartial();
  });

  let payment;
  const askPayment = async () => {
    payment = await api('POST', `/v1/deals/${dealId}/payment`);
    termsBox.replaceChildren(renderTerms(payment));
    return payment;
  };
  try {
    await askPayment();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'deposit_deadline_passed') {
      show('expired', 'error', 'The time to pay for this deal has passed; it takes no payment now.');
      return;
    }
    if (error instanceof ApiError && error.code === 'deal_not_pending') {
      await refresh();
      settled();
      return;
    }
    throw error;
  }

  const ui = tonConnect();
  const linked = rawAddress(payment.transaction.from || payment.terms.advertiserAddressRaw);


  const check = () => {
    const wallet = ui.wallet;
    if (deal.status !== 'pending') return settled();
    if (!wallet) {
      show('connect', 'info', 'Connect the wallet you linked to pay from it.');
      actions.replaceChildren(button('connect', 'Connect wallet', () => ui.openModal()));
      return;
    }
    // The request names its network outside the sandbox (whose local chain no wallet matches).
    const network = payment.transaction.network;
    if (network && wallet.account.chain !== network) {
      show(
        'wrong-network',
        'error',
        `Your wallet is on another TON network (chain ${wallet.account.chain}); this escrow is on ` +
          `chain ${network}. Switch the wallet's network and connect again.`,
      );
      actions.replaceChildren(button('disconnect', 'Disconnect', () => ui.disconnect()));
      return;
    }
    if (rawAddress(wallet.account.address) !== linked) {
      show(
        'wrong-wallet',
        'error',
        'This is not the wallet you linked. Connect ',
        el('code', {}, friendlyAddress(linked)),
        ': refunds of this deal go only there.',
      );
      actions.replaceChildren(button('disconnect', 'Disconnect', () => ui.disconnect()));
      return;
    }
    if (BigInt(deal.depositedNano) > 0n) showPartial();
    else show('ready', 'info', `Send ${formatTon(payment.amountNano)} TON to the escrow from your wallet.`);
    actions.replaceChildren(button('pay', `Pay ${formatTon(deal.missingNano)} TON`, pay));
  };

  const pay = async () => {
    actions.replaceChildren();
    try {
      // An expired request would be refused by the wallet: ask for a fresh one first.
      if (payment.validUntil - 30 < Date.now() / 1000) await askPayment();
      const transaction = structuredClone(payment.transaction);
      if (BigInt(deal.depositedNano) > 0n) transaction.messages[0].amount = deal.missingNano;
      show('sending', 'info', 'Confirm the payment in your wallet…');
      await ui.sendTransaction(transaction, { modals: [], notifications: [] });
      show('sent', 'info', 'Sent. Waiting for the escrow to receive it…');
    } catch (error) {
      if (error instanceof ApiError) return showError(error);
      const message = String(error && error.message ? error.message : error);
      if (/expire/i.test(message)) {
        show('expired', 'warning', 'The payment request expired before the wallet sent it. Try again.');
      } else {
        show('refused', 'error', `The wallet did not send the payment: ${message}`);
      }
      actions.replaceChildren(button('pay', 'Try again', () => { check(); }));
    }
  };

  ui.onStatusChange(check);
  await ui.connectionRestored;
  check();
}

/** The deal's changes over Server-Sent Events; `onChange` runs on each event of this deal. */
async function followDeal(dealId, onChange) {
  const { ticket } = await api('POST', '/v1/events/ticket');
  const source = new EventSource(`/v1/events?ticket=${encodeURIComponent(ticket)}`);
  source.addEventListener('deal', (event) => {
    const data = JSON.parse(event.data);
    if (Number(data.dealId) === Number(dealId)) onChange(data).catch(showError);
  });
  source.addEventListener('error', async () => {
    // A ticket is short-lived: on a dropped stream open a new one with a new ticket.
    if (source.readyState === EventSource.CLOSED) followDeal(dealId, onChange);
  });
  // The change may have happened before the stream opened.
  source.addEventListener('open', () => onChange({ dealId }).catch(showError));
}

// ---- start -------------------------------------------------------------------------------------

async function main() {
  if (!(await login())) return showLogin();
  if (config.page === 'wallet') return walletPage();
  if (config.page === 'pay') return payPage();
  throw new Error(`unknown page ${config.page}`);
}

main().catch(showError);
