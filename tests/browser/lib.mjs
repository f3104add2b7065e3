// A small test runner and assertions for the browser tests (playwright-core
// has the browser API but not @playwright/test's runner or expect).
//
// Tests run one after another, in the order they are declared. A test may
// belong to a flow: once a step of a flow fails, its later steps are
// reported as failed without running (they build on what the failed step
// should have left). The last line is "RESULT passed=N failed=M", the same
// line tests/integration/run.py prints, which scripts/test reads.

import assert from "node:assert/strict";

export { assert };

const tests = [];

// test(name, fn, {flow, timeout}): fn is an async function.
export function test(name, fn, { flow, timeout = 45000 } = {}) {
	tests.push({ name, fn, flow, timeout });
}

function withTimeout(promise, ms, name) {
	let timer;
	return Promise.race([
		promise,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

// Runs every test; onFailure(test, error) may save a screenshot. Returns
// the number of failures.
export async function run({ onFailure } = {}) {
	let passed = 0;
	let failed = 0;
	const brokenFlows = new Map();
	for (const [i, t] of tests.entries()) {
		const label = `${i + 1} - ${t.name}`;
		if (t.flow && brokenFlows.has(t.flow)) {
			failed += 1;
			console.log(`not ok ${label}\n  # not run: step "${brokenFlows.get(t.flow)}" of this flow failed`);
			continue;
		}
		const start = Date.now();
		try {
			await withTimeout(Promise.resolve().then(t.fn), t.timeout, t.name);
			passed += 1;
			console.log(`ok ${label} (${Date.now() - start} ms)`);
		} catch (err) {
			failed += 1;
			if (t.flow) brokenFlows.set(t.flow, t.name);
			console.log(`not ok ${label} (${Date.now() - start} ms)`);
			console.log(String((err && err.stack) || err).replace(/^/gm, "  # "));
			if (onFailure) await onFailure(t, err).catch((e) => console.log(`  # (while saving evidence: ${e.message})`));
		}
	}
	console.log(`RESULT passed=${passed} failed=${failed}`);
	return failed;
}

// Retry fn until it stops throwing or timeout ms pass; then rethrow its
// last error. For checks of a page that updates after a fetch.
export async function eventually(fn, timeout = 5000) {
	const deadline = Date.now() + timeout;
	for (;;) {
		try {
			return await fn();
		} catch (err) {
			if (Date.now() > deadline) throw err;
			await new Promise((r) => setTimeout(r, 50));
		}
	}
}

const squash = (s) => (s || "").replace(/\s+/g, " ").trim();

// The locator's text (whitespace squashed) becomes `want` (a string, or a
// RegExp it must match).
export async function expectText(locator, want, timeout) {
	await eventually(async () => {
		const got = squash(await locator.textContent({ timeout: 1000 }));
		if (want instanceof RegExp) assert.match(got, want);
		else assert.equal(got, want);
	}, timeout);
}

export async function expectVisible(locator, timeout = 5000) {
	await locator.waitFor({ state: "visible", timeout });
}

export async function expectCount(locator, n, timeout) {
	await eventually(async () => assert.equal(await locator.count(), n), timeout);
}

export async function expectValue(fn, want, timeout) {
	await eventually(async () => assert.deepEqual(await fn(), want), timeout);
}
