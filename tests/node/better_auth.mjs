// Drives an unchanged Better Auth browser client (createAuthClient from
// better-auth/client, version pinned in package.json) against a running
// todod stack: sign-up, sign-in, get-session by cookie and by bearer token,
// GET /api/auth/token through the client's $fetch, sign-out, the account
// methods (changePassword, updateUser, revokeSessions, deleteUser) and their
// effects, and the error answers the client sees. Prints TAP; exit status 1
// when anything failed.
//
// Usage: node tests/node/better_auth.mjs BASE_URL      (Node >= 18)
//   e.g. node tests/node/better_auth.mjs http://127.0.0.1:18080
// The client appends its default base path /api/auth to BASE_URL.
// Needs tests/node/node_modules: npm ci --prefix tests/node --no-audit --no-fund
//
// Node's fetch keeps no cookies and sends no Origin, so each client here is
// given what a browser on the service's own page would do, through the
// client's documented fetchOptions hooks only: a cookie jar (onResponse reads
// Set-Cookie, onRequest sends Cookie) and, on unsafe methods, an Origin
// header. Bearer clients use fetchOptions.auth = {type: 'Bearer', token}.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const base = process.argv[2];
if (!base || !/^https?:\/\/[^/]+\/?$/.test(base)) {
  console.error('usage: node better_auth.mjs BASE_URL   (e.g. http://127.0.0.1:18080)');
  process.exit(2);
}
const OWN_ORIGIN = new URL(base).origin;
const FOREIGN_ORIGIN = 'http://evil.example';
const COOKIE = base.startsWith('https:') ? '__Host-todod_session' : 'todod_session';

let n = 0;
let failed = 0;
function ok(cond, name, diag) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? '' : 'not '}ok ${n} - ${name}`);
  if (!cond && diag !== undefined) {
    const text = typeof diag === 'string' ? diag : JSON.stringify(diag);
    for (const line of text.split('\n')) console.log(`#   ${line}`);
  }
}
function finish() {
  console.log(`1..${n}`);
  if (failed) console.log(`# ${failed} of ${n} failed`);
  process.exit(failed ? 1 : 0);
}
function bail(why, diag) {
  ok(false, why, diag);
  console.log(`Bail out! ${why}`);
  finish();
}

// A hung service must not hang the run; a bug here must still end the TAP.
const unexpected = (e) => bail(`unexpected exception: ${e?.message ?? e}`, String(e?.stack ?? ''));
process.on('uncaughtException', unexpected);
process.on('unhandledRejection', unexpected);
setTimeout(() => bail('no answer within 120 s'), 120_000).unref();

let createAuthClient;
try {
  ({ createAuthClient } = await import('better-auth/client'));
} catch (e) {
  bail('cannot load better-auth/client (run: npm ci --prefix tests/node --no-audit --no-fund)',
       e.message);
}
let version = '?';
try {
  version = JSON.parse(readFileSync(new URL('./node_modules/better-auth/package.json',
                                            import.meta.url), 'utf8')).version;
} catch { /* reported as '?' */ }
console.log(`# node ${process.version}, better-auth ${version}, base ${base}`);

// ---------------------------------------------------------------- helpers

// Splits a joined Set-Cookie value (Headers.get joins with ", "; Node 18's
// fetch has no getSetCookie) without breaking on the comma of an Expires date.
function setCookies(headers) {
  if (typeof headers.getSetCookie === 'function') return headers.getSetCookie();
  const joined = headers.get('set-cookie');
  return joined ? joined.split(/,\s*(?=[^;=\s,]+=)/) : [];
}

function parseSetCookie(line) {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const out = { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs: {} };
  for (const a of attrs) {
    const i = a.indexOf('=');
    out.attrs[(i < 0 ? a : a.slice(0, i)).toLowerCase()] = i < 0 ? true : a.slice(i + 1);
  }
  return out;
}

// One browser's cookie store, reduced to the one cookie the service sets.
class Jar {
  constructor() {
    this.value = null;
    this.lastSet = null; // the last Set-Cookie seen for our cookie, parsed
  }
  header() {
    return this.value === null ? null : `${COOKIE}=${this.value}`;
  }
  take(headers) {
    for (const line of setCookies(headers)) {
      const c = parseSetCookie(line);
      if (c.name !== COOKIE) continue;
      this.lastSet = c;
      const maxAge = c.attrs['max-age'];
      const expired = (maxAge !== undefined && Number(maxAge) <= 0) ||
        (c.attrs.expires && Date.parse(c.attrs.expires) <= Date.now());
      this.value = expired || c.value === '' ? null : c.value;
    }
  }
}

// A client as a page would hold it: jar (cookies), origin (sent on unsafe
// methods, as browsers do), bearer (a token, or a function returning one).
// `last` records the latest response's status and whether it set our cookie.
function makeClient({ jar = null, origin = OWN_ORIGIN, bearer = null } = {}) {
  const last = { status: 0, setCookie: false, requestHeaders: null, method: null, path: null };
  const fetchOptions = {
    onRequest(ctx) {
      const cookie = jar?.header();
      if (cookie) ctx.headers.set('cookie', cookie);
      const method = (ctx.method || 'GET').toUpperCase();
      if (origin && method !== 'GET' && method !== 'HEAD') ctx.headers.set('origin', origin);
      last.requestHeaders = ctx.headers;
      last.method = method;
      last.path = new URL(String(ctx.url), base).pathname;
    },
    onResponse(ctx) {
      last.status = ctx.response.status;
      last.setCookie = setCookies(ctx.response.headers).some((l) => l.startsWith(`${COOKIE}=`));
      jar?.take(ctx.response.headers);
    },
  };
  if (bearer !== null) fetchOptions.auth = { type: 'Bearer', token: bearer };
  const client = createAuthClient({ baseURL: base, fetchOptions });
  return { client, last, jar };
}

function b64json(part) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}
// A compact HS256 JWT whose sub is the given user id and exp is in the future.
function checkJwt(token, userId, what) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  const header = parts.length === 3 ? b64json(parts[0]) : null;
  const claims = parts.length === 3 ? b64json(parts[1]) : null;
  ok(header?.alg === 'HS256' && typeof userId === 'string' && claims?.sub === userId && typeof claims?.exp === 'number' &&
     claims.exp > Date.now() / 1000,
     `${what}: an HS256 JWT for the user, not expired`, { header, claims, userId });
}
// The client's JSON parser turns ISO 8601 strings into Date objects (its
// types promise Date for createdAt, updatedAt, expiresAt): a string left
// over means the service's format is one the client does not recognise.
function isDate(v) {
  return v instanceof Date && !Number.isNaN(v.getTime());
}
function checkError(res, last, status, code, what) {
  ok(res?.data === null && res?.error?.status === status && res.error.code === code &&
     typeof res.error.message === 'string' && res.error.message.length > 0,
     `${what}: client error ${status} ${code}`, { status: last.status, res });
}

// ------------------------------------------------------------------ tests

const email = `ba-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@example.com`;
const password = `pw-${randomBytes(9).toString('base64url')}`;
const name = 'Ada Lovelace';
console.log(`# user ${email}`);

// Sign-up, as a page on the service's own origin.
const a = makeClient({ jar: new Jar() });
let res = await a.client.signUp.email({ name, email, password });
ok(res.error === null && a.last.status === 201, 'sign-up: 201 and no client error',
   { status: a.last.status, error: res.error });
const user = res.data?.user;
const userId = user?.id;
// The signed-up user as the client sees it in later answers.
const isUser = (u) => typeof userId === 'string' && u?.id === userId && u.email === email &&
  u.name === name;
ok(typeof userId === 'string' && userId.length > 0 && user.email === email && user.name === name &&
   user.emailVerified === false && isDate(user.createdAt) && isDate(user.updatedAt),
   'sign-up: data.user is the new user', res.data);
checkJwt(res.data?.token, userId, 'sign-up: data.token');
const c = a.jar.lastSet;
ok(a.jar.value !== null && c?.attrs.httponly === true && String(c.attrs.samesite).toLowerCase() === 'lax' &&
   c.attrs.path === '/' && !('domain' in c.attrs) && Number(c.attrs['max-age']) > 0,
   `sign-up: sets ${COOKIE} (HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age > 0)`, c);

res = await a.client.getSession();
ok(res.error === null && isUser(res.data?.user),
   'get-session with the sign-up cookie alone: the new user', { status: a.last.status, res });

// Duplicate sign-up.
const dup = makeClient({ jar: new Jar() });
res = await dup.client.signUp.email({ name, email, password: `${password}-other` });
checkError(res, dup.last, 422, 'USER_ALREADY_EXISTS', 'duplicate sign-up');
ok(!dup.last.setCookie && dup.jar.value === null, 'duplicate sign-up: no cookie set');

// Wrong password, unknown email.
const wrong = makeClient({ jar: new Jar() });
res = await wrong.client.signIn.email({ email, password: `${password}-wrong` });
checkError(res, wrong.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'sign-in, wrong password');
ok(!wrong.last.setCookie && wrong.jar.value === null, 'sign-in, wrong password: no cookie set');
res = await wrong.client.signIn.email({ email: `nobody-${email}`, password });
checkError(res, wrong.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'sign-in, unknown email');

// Login CSRF: sign-in from a foreign page.
const foreignLogin = makeClient({ jar: new Jar(), origin: FOREIGN_ORIGIN });
res = await foreignLogin.client.signIn.email({ email, password });
checkError(res, foreignLogin.last, 403, 'INVALID_ORIGIN', 'sign-in with a foreign Origin');
ok(foreignLogin.jar.value === null, 'sign-in with a foreign Origin: no cookie set');

// Sign-in in a fresh browser.
const jar = new Jar();
const b = makeClient({ jar });
res = await b.client.signIn.email({ email, password });
ok(res.error === null && b.last.status === 200, 'sign-in: 200 and no client error',
   { status: b.last.status, error: res.error });
ok(res.data?.redirect === false && isUser(res.data?.user),
   'sign-in: data is {redirect: false, token, user}', res.data);
checkJwt(res.data?.token, userId, 'sign-in: data.token');
const signInToken = res.data?.token;
ok(jar.value !== null, `sign-in: sets ${COOKIE}`, jar.lastSet);

// get-session: cookie only, nothing, bearer only, a bad bearer.
res = await b.client.getSession();
ok(res.error === null && isUser(res.data?.user), 'get-session with the cookie alone: the user', res);
ok(b.last.requestHeaders && !b.last.requestHeaders.has('authorization') &&
   b.last.requestHeaders.get('cookie') === jar.header(), 'get-session: sent the cookie and no Authorization');
const expiresAt = res.data?.session?.expiresAt;
ok(isDate(expiresAt) && expiresAt.getTime() > Date.now(),
   'get-session: session.expiresAt is a future time (a Date to the client)', res.data?.session);

const anon = makeClient({ jar: new Jar() });
res = await anon.client.getSession();
ok(res.error === null && res.data === null && anon.last.status === 200,
   'get-session without credentials: 200, data null', { status: anon.last.status, res });

const t = makeClient({ bearer: () => signInToken });
res = await t.client.getSession();
ok(res.error === null && isUser(res.data?.user) && isDate(res.data?.session?.expiresAt),
   'get-session with the sign-in token as bearer (no cookie): the user', res);
ok(t.last.requestHeaders?.get('authorization') === `Bearer ${signInToken}` &&
   !t.last.requestHeaders.has('cookie'), 'get-session: sent the bearer token and no cookie');

const bad = makeClient({ bearer: `${signInToken}x` });
res = await bad.client.getSession();
ok(res.error === null && res.data === null && bad.last.status === 200,
   'get-session with a tampered bearer token: 200, data null', { status: bad.last.status, res });

// GET /api/auth/token through $fetch.
res = await b.client.$fetch('/token');
ok(res.error === null && b.last.status === 200, '$fetch /token with the cookie: 200',
   { status: b.last.status, error: res.error });
checkJwt(res.data?.token, userId, '$fetch /token with the cookie: data.token');
const freshToken = res.data?.token;

const fresh = makeClient({ bearer: freshToken ?? '' });
res = await fresh.client.getSession();
ok(res.error === null && isUser(res.data?.user),
   'get-session with the token from /token as bearer: the user', res);

res = await t.client.$fetch('/token', { method: 'GET' });
ok(res.error === null && t.last.status === 200, '$fetch /token with a bearer token: 200',
   { status: t.last.status, error: res.error });
checkJwt(res.data?.token, userId, '$fetch /token with a bearer token: data.token');

res = await anon.client.$fetch('/token');
checkError(res, anon.last, 401, 'UNAUTHORIZED', '$fetch /token without credentials');

// Sign-out: with the cookie from a foreign page, with no Origin, then properly.
const foreign = makeClient({ jar, origin: FOREIGN_ORIGIN });
res = await foreign.client.signOut();
checkError(res, foreign.last, 403, 'INVALID_ORIGIN', 'sign-out with the cookie and a foreign Origin');
ok(!foreign.last.setCookie && jar.value !== null,
   'sign-out with a foreign Origin: the cookie is not cleared', jar.lastSet);

const noOrigin = makeClient({ jar, origin: null });
res = await noOrigin.client.signOut();
checkError(res, noOrigin.last, 403, 'INVALID_ORIGIN', 'sign-out with the cookie and no Origin or Referer');

res = await b.client.getSession();
ok(isUser(res.data?.user), 'get-session after the refused sign-outs: still signed in', res);

res = await b.client.signOut();
ok(res.error === null && b.last.status === 200 && res.data?.success === true,
   'sign-out with the cookie and the own Origin: 200 {success: true}',
   { status: b.last.status, res });
ok(b.last.setCookie && jar.value === null, 'sign-out: the cookie is cleared', jar.lastSet);

res = await b.client.getSession();
ok(res.error === null && res.data === null, 'get-session after sign-out: data null', res);

res = await b.client.$fetch('/token');
checkError(res, b.last, 401, 'UNAUTHORIZED', '$fetch /token after sign-out');

// Sign-out of a bearer client (no cookie, so no Origin check).
const tb = makeClient({ bearer: signInToken, origin: null });
res = await tb.client.signOut();
ok(res.error === null && tb.last.status === 200 && res.data?.success === true,
   'sign-out with a bearer token and no Origin: 200 {success: true}',
   { status: tb.last.status, res });

// ------------------------------------------------- accounts (issue 14)
// Each method is the unchanged client's; `route` checks the path and method
// the client chose for it.
function route(last, path, what) {
  ok(last.method === 'POST' && last.path === `/api/auth${path}`, `${what}: POST /api/auth${path}`,
     { method: last.method, path: last.path });
}
const named = (u, nm) => typeof userId === 'string' && u?.id === userId && u.email === email &&
  u.name === nm;
async function bearerOf(pw) {
  const r = await makeClient().client.signIn.email({ email, password: pw });
  return r.data?.token ?? 'none';
}
async function sessionOf(token) {
  return (await makeClient({ bearer: token }).client.getSession()).data;
}

const acctJar = new Jar();
const acct = makeClient({ jar: acctJar });
res = await acct.client.signIn.email({ email, password });
ok(res.error === null && acctJar.value !== null, 'accounts: signed in by cookie', res.error);
const otherToken = await bearerOf(password);
ok(named((await sessionOf(otherToken))?.user, name), "accounts: a second sign-in's token works");

// changePassword
const newPassword = `pw2-${randomBytes(9).toString('base64url')}`;
res = await acct.client.changePassword({ currentPassword: `${password}-wrong`, newPassword,
                                         revokeOtherSessions: true });
route(acct.last, '/change-password', 'changePassword');
checkError(res, acct.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'changePassword, wrong current password');
res = await acct.client.changePassword({ currentPassword: password, newPassword: 'Password1',
                                         revokeOtherSessions: true });
checkError(res, acct.last, 422, 'VALIDATION_FAILED', 'changePassword to a common password');
ok(res.error?.field === 'newPassword', 'changePassword to a common password: field newPassword',
   res.error);
const cookieBefore = acctJar.value;
res = await acct.client.changePassword({ currentPassword: password, newPassword,
                                         revokeOtherSessions: true });
ok(res.error === null && acct.last.status === 200 && named(res.data?.user, name),
   'changePassword: 200 {token, user}', { status: acct.last.status, res });
checkJwt(res.data?.token, userId, 'changePassword: data.token');
ok(acctJar.value !== null && acctJar.value === res.data?.token && acctJar.value !== cookieBefore,
   'changePassword: a fresh cookie carrying the new token', acctJar.lastSet);
res = await acct.client.getSession();
ok(res.error === null && named(res.data?.user, name), 'get-session with the new cookie: the user', res);
ok((await sessionOf(otherToken)) === null, "get-session with another sign-in's token after changePassword: null");
ok((await sessionOf(cookieBefore)) === null, 'get-session with the token of before changePassword: null');
const probe = makeClient();
res = await probe.client.signIn.email({ email, password });
checkError(res, probe.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'signIn.email with the old password');
const afterChange = await bearerOf(newPassword);
ok(named((await sessionOf(afterChange))?.user, name), 'signIn.email with the new password works');

// updateUser
res = await acct.client.updateUser({ name: 'Grace Hopper' });
route(acct.last, '/update-user', 'updateUser');
ok(res.error === null && acct.last.status === 200 && res.data?.status === true,
   'updateUser: 200 {status: true}', { status: acct.last.status, res });
res = await acct.client.getSession();
ok(named(res.data?.user, 'Grace Hopper') && isDate(res.data.user.updatedAt) &&
   res.data.user.updatedAt.getTime() > user.updatedAt.getTime(),
   'get-session after updateUser: the new name, a later updatedAt', res.data);
res = await acct.client.updateUser({ name: '   ' });
checkError(res, acct.last, 422, 'VALIDATION_FAILED', 'updateUser with a blank name');

// revokeSessions
res = await acct.client.revokeSessions();
route(acct.last, '/revoke-sessions', 'revokeSessions');
ok(res.error === null && acct.last.status === 200 && res.data?.status === true,
   'revokeSessions: 200 {status: true}', { status: acct.last.status, res });
res = await acct.client.getSession();
ok(res.error === null && res.data === null, 'get-session with the cookie after revokeSessions: null', res);
ok((await sessionOf(afterChange)) === null, "get-session with another sign-in's token after revokeSessions: null");
res = await acct.client.signIn.email({ email, password: newPassword });
ok(res.error === null && acctJar.value !== null, 'signIn.email right after revokeSessions', res.error);
res = await acct.client.getSession();
ok(named(res.data?.user, 'Grace Hopper'), 'get-session with that sign-in: the user at once', res);

// deleteUser
res = await acct.client.deleteUser({ password: `${newPassword}-wrong` });
route(acct.last, '/delete-user', 'deleteUser');
checkError(res, acct.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'deleteUser, wrong password');
const beforeDelete = acctJar.value;
res = await acct.client.deleteUser({ password: newPassword });
ok(res.error === null && acct.last.status === 200 && res.data?.success === true &&
   res.data?.message === 'User deleted', "deleteUser: 200 {success: true, message: 'User deleted'}",
   { status: acct.last.status, res });
ok(acct.last.setCookie && acctJar.value === null, 'deleteUser: the cookie is cleared', acctJar.lastSet);
ok((await sessionOf(beforeDelete)) === null, 'get-session with the deleted account\'s token: null');
res = await probe.client.signIn.email({ email, password: newPassword });
checkError(res, probe.last, 401, 'INVALID_EMAIL_OR_PASSWORD', 'signIn.email after deleteUser');
const reborn = makeClient({ jar: new Jar() });
res = await reborn.client.signUp.email({ name: 'Second Life', email, password });
ok(res.error === null && reborn.last.status === 201 && res.data?.user?.email === email &&
   res.data.user.id !== userId, 'signUp.email with the deleted email: 201, a new account',
   { status: reborn.last.status, res });

finish();
