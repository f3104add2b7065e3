// Cross-checks password.c (through tests/unit/pwtool) against Better Auth's
// scrypt password hashing in both directions; prints TAP.
// Usage: node tests/node/scrypt_compat.mjs PATH_TO_PWTOOL   (Node >= 18)
import { spawnSync } from 'node:child_process';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt);

// Better Auth's parameters; scrypt needs 128 * N * r bytes (32 MiB), so the
// limit must be raised above Node's default of exactly 32 MiB.
const PARAMS = { N: 16384, r: 16, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 64;
const HASH = /^[0-9a-f]{32}:[0-9a-f]{128}$/;

// Better Auth's hashPassword: the salt is the hex *text* of 16 random bytes.
async function baHash(password) {
  const salt = randomBytes(16).toString('hex');
  const key = await scryptAsync(password.normalize('NFKC'), salt, KEY_LEN, PARAMS);
  return `${salt}:${key.toString('hex')}`;
}

// Better Auth's verifyPassword.
async function baVerify(hash, password) {
  const [salt, key] = hash.split(':');
  if (!salt || !key) throw new Error('invalid password hash');
  const got = await scryptAsync(password.normalize('NFKC'), salt, KEY_LEN, PARAMS);
  const want = Buffer.from(key, 'hex');
  return want.length === got.length && timingSafeEqual(got, want);
}

// pwtool drops one final newline, so one is always sent: a password that
// itself ends in "\n" then survives.
function pwtoolRun(args, password) {
  const r = spawnSync(tool, args, { input: Buffer.from(password + '\n', 'utf8') });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout.toString().trim(), err: r.stderr.toString() };
}

let n = 0;
let failed = 0;
function ok(cond, name, diag) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? '' : 'not '}ok ${n} - ${name}`);
  if (!cond && diag) console.log(`#   ${diag}`);
}

const tool = process.argv[2];
if (!tool) {
  console.error('usage: node scrypt_compat.mjs PATH_TO_PWTOOL');
  process.exit(2);
}

const passwords = [
  ['ASCII', 'correct horse battery staple'],
  ['ligature, accent, fullwidth', '\uFB01anc\u00E9 \uFF30\uFF41\uFF53\uFF53'],
  ['CJK and emoji', 'p\u00E4ssw\u00F6rd \u65E5\u672C\u8A9E \u{1F511}'],
  ['trailing newline', 'line\n'],
];

// Both scrypt implementations todod may pick (scrypt_library).
for (const lib of ['openssl', 'libsodium'])
for (const [name, pw] of passwords) {
  const label = `${lib}, ${name}`;
  const pwtool = (args, password) => pwtoolRun([`--scrypt=${lib}`, ...args], password);
  const wrong = pw + 'x';
  const nodeHash = await baHash(pw);
  let r = pwtool(['verify', nodeHash], pw);
  ok(r.status === 0, `${label}: Node hash verifies with pwtool`, `status ${r.status} ${r.err}`);
  r = pwtool(['verify', nodeHash], wrong);
  ok(r.status === 1, `${label}: Node hash refuses a wrong password in pwtool`, `status ${r.status} ${r.err}`);

  r = pwtool(['hash'], pw);
  const good = r.status === 0 && HASH.test(r.out);
  ok(good, `${label}: pwtool hash has Better Auth's format`, `status ${r.status} out ${r.out} ${r.err}`);
  ok(good && (await baVerify(r.out, pw)), `${label}: pwtool hash verifies in Node`);
  ok(good && !(await baVerify(r.out, wrong)), `${label}: pwtool hash refuses a wrong password in Node`);
}

// NFKC both ways: a hash of one form verifies with an equivalent form.
const nfd = 'fiance\u0301 Pass';
const pwtool = pwtoolRun;
let r = pwtool(['verify', await baHash(passwords[1][1])], nfd);
ok(r.status === 0, 'Node hash of the ligature form verifies the NFD form in pwtool', `status ${r.status}`);
r = pwtool(['hash'], nfd);
ok(r.status === 0 && HASH.test(r.out) && (await baVerify(r.out, passwords[1][1])),
   'pwtool hash of the NFD form verifies the ligature form in Node');

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
