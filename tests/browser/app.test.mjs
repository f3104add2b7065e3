// The todo page (web/) in a real, headless Chromium, against a private
// stack that tests/browser/run.py starts (TODOD_BASE_URL). Driven by
// playwright-core (pinned in tests/node/package-lock.json) with Debian's
// chromium; every element is found by its role and accessible name or by
// its label, as a person with a screen reader finds it.
//
// Environment: TODOD_BASE_URL (required), TODOD_BROWSER_OUT (screenshots),
// TODOD_CHROMIUM (the browser binary).

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "../node/node_modules/playwright-core/index.mjs";
import { assert, eventually, expectCount, expectText, expectValue, expectVisible, run, test } from "./lib.mjs";

const BASE = process.env.TODOD_BASE_URL;
if (!BASE) {
	console.log("TODOD_BASE_URL is not set; run tests/browser/run.py");
	console.log("RESULT passed=0 failed=1");
	process.exit(1);
}
const OUT = process.env.TODOD_BROWSER_OUT || path.join(process.cwd(), "build", "browser");
fs.mkdirSync(OUT, { recursive: true });

// Debian's chromium: /usr/bin/chromium is a shell wrapper around this.
const CHROMIUM =
	process.env.TODOD_CHROMIUM || ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => fs.existsSync(p));

const PASSWORD = "correct horse battery";
const run_id = Date.now().toString(36);
const email = (who) => `${who}-${run_id}@example.com`;

/* The browser and its contexts: one per person. */

let browser;
const pages = new Set();

// A context (a separate cookie jar: one person) whose pages record every
// console error, uncaught exception, CSP violation and failed response.
async function person({ viewport = { width: 1280, height: 800 } } = {}) {
	const context = await browser.newContext({ viewport, timezoneId: "America/New_York", locale: "en-US" });
	const problems = [];
	// Reported from the page's own CSP violation events; survives reloads.
	await context.exposeBinding("__reportCspViolation", (_source, v) => problems.push(`CSP violation: ${JSON.stringify(v)}`));
	await context.addInitScript(() => {
		document.addEventListener("securitypolicyviolation", (e) =>
			window.__reportCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }),
		);
	});
	const page = await context.newPage();
	pages.add(page);
	page.on("console", (m) => {
		if (m.type() === "error") problems.push(`console error: ${m.text()}`);
	});
	page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message}`));
	page.on("requestfailed", (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
	page.on("response", (r) => {
		if (r.status() >= 400) problems.push(`response ${r.status()}: ${r.request().method()} ${r.url()}`);
	});
	return { context, page, problems };
}

/* Finding things on the page, by role and label. */

const addForm = (page) => page.getByRole("form", { name: "New todo" });
const filters = (page) => page.getByRole("search", { name: "Filter todos" });
const todoList = (page) => page.getByRole("list", { name: "Your todos" });
const item = (page, title) =>
	todoList(page).getByRole("listitem").filter({ has: page.getByRole("checkbox", { name: title, exact: true }) });
const checkbox = (page, title) => todoList(page).getByRole("checkbox", { name: title, exact: true });
const status = (page, text) => page.getByRole("status").filter({ hasText: text });
const alertWith = (scope, text) => scope.getByRole("alert").filter({ hasText: text });
const totalIs = (page, n) => expectVisible(page.getByText(n === 1 ? "1 todo" : `${n} todos`, { exact: true }));

// The titles in the list, top to bottom.
async function titles(page) {
	await eventually(async () => assert.equal(await todoList(page).getAttribute("aria-busy"), null));
	return todoList(page).getByRole("listitem").locator("label").allTextContents();
}

async function expectTitles(page, want) {
	await expectValue(() => titles(page), want);
}

async function signUp(page, name, address) {
	await page.goto(BASE);
	await page.getByRole("tab", { name: "Sign up" }).click();
	await page.getByLabel("Name").fill(name);
	await page.getByLabel("Email").fill(address);
	await page.getByLabel("Password").fill(PASSWORD);
	await page.getByRole("button", { name: "Sign up" }).click();
	await expectVisible(page.getByRole("heading", { name: "Your todos", exact: true }));
}

async function signIn(page, address, password = PASSWORD) {
	await page.getByLabel("Email").fill(address);
	await page.getByLabel("Password").fill(password);
	await page.getByRole("button", { name: "Sign in" }).click();
}

async function addTodo(page, { title, description, priority, due }) {
	const form = addForm(page);
	await form.getByLabel("Title").fill(title);
	if (description) await form.getByLabel("Description").fill(description);
	if (priority) await form.getByLabel("Priority").selectOption(priority);
	if (due) await form.getByLabel("Due date").fill(due);
	await form.getByRole("button", { name: "Add" }).click();
	await expectVisible(status(page, `Added “${title}”.`));
}

// A request made by the page itself (same origin, the cookie, the page's
// Origin header on writes): {status, body}.
async function pageFetch(page, method, url, body) {
	return page.evaluate(
		async ([method, url, body]) => {
			const init = { method, headers: {} };
			if (body !== undefined) {
				init.headers["Content-Type"] = "application/json";
				init.body = JSON.stringify(body);
			}
			const res = await fetch(url, init);
			const text = await res.text();
			return { status: res.status, body: text ? JSON.parse(text) : null };
		},
		[method, url, body],
	);
}

async function todoByTitle(page, title) {
	const res = await pageFetch(page, "GET", `/api/todos?limit=200&q=${encodeURIComponent(title)}`);
	assert.equal(res.status, 200);
	const found = res.body.items.filter((t) => t.title === title);
	assert.equal(found.length, 1, `one todo titled ${title}`);
	return found[0];
}

// No script of the page can read the session: not in document.cookie, not
// in storage; the cookie itself is httpOnly.
async function assertTokenHidden(page) {
	const cookies = await page.context().cookies(BASE);
	const session = cookies.find((c) => c.name === "todod_session");
	assert.ok(session, "the session cookie is set");
	assert.equal(session.httpOnly, true);
	assert.equal(session.sameSite, "Lax");
	const seen = await page.evaluate(() => ({
		cookie: document.cookie,
		storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
	}));
	assert.ok(!seen.cookie.includes("todod_session"), `document.cookie is ${seen.cookie}`);
	assert.ok(!seen.cookie.includes(session.value) && !seen.storage.includes(session.value), "the token is out of the page's reach");
	assert.ok(!/eyJ[\w-]+\.[\w-]+/.test(seen.cookie + seen.storage), "no JWT in cookies or storage");
}

// The element that has keyboard focus, described.
function focused(page) {
	return page.evaluate(() => {
		const el = document.activeElement;
		const cs = getComputedStyle(el);
		const ref = (attr) => (el.getAttribute(attr) || "").split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ").trim();
		return {
			tag: el.tagName.toLowerCase(),
			type: el.type || "",
			text: el.textContent.trim(),
			label: ref("aria-labelledby") || (el.labels && el.labels[0] ? el.labels[0].textContent : ""),
			description: ref("aria-describedby"),
			focusVisible: el.matches(":focus-visible"),
			outline: `${cs.outlineStyle} ${parseFloat(cs.outlineWidth)}`,
		};
	});
}

function get(url, headers = {}) {
	return new Promise((resolve, reject) => {
		const req = http.get(url, { headers }, (res) => {
			const chunks = [];
			res.on("data", (c) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on("error", reject);
		req.setTimeout(10000, () => req.destroy(new Error(`GET ${url} timed out`)));
	});
}

/* The page as served: headers, caching, compression. */

test("nginx serves the page with a strict CSP, ETag revalidation and gzip", async () => {
	const page = await get(`${BASE}/`);
	assert.equal(page.status, 200);
	assert.match(page.headers["content-type"], /^text\/html/);
	const csp = page.headers["content-security-policy"];
	assert.ok(csp, "CSP header present");
	assert.match(csp, /(^|; )default-src 'self'(;|$)/);
	assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
	assert.equal(page.headers["x-frame-options"], "DENY");
	assert.equal(page.headers["x-content-type-options"], "nosniff");
	assert.equal(page.headers["cache-control"], "no-cache");
	assert.ok(page.headers.etag, "ETag present");
	const again = await get(`${BASE}/`, { "If-None-Match": page.headers.etag });
	assert.equal(again.status, 304, "revalidation with the ETag");

	// Every file the page names is there, with the right type, compressed.
	const html = page.body.toString("utf8");
	const assets = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]);
	assert.ok(assets.includes("/js/main.js") && assets.includes("/app.css"), `assets: ${assets}`);
	for (const asset of ["/js/main.js", "/js/todos-view.js", "/app.css"]) {
		const r = await get(`${BASE}${asset}`, { "Accept-Encoding": "gzip" });
		assert.equal(r.status, 200, asset);
		assert.equal(r.headers["content-encoding"], "gzip", `${asset} is gzipped`);
		assert.match(r.headers.vary || "", /Accept-Encoding/);
		assert.equal(r.headers["cache-control"], "no-cache");
		assert.ok(r.headers.etag, `${asset} has an ETag`);
		assert.match(r.headers["content-type"], asset.endsWith(".js") ? /^application\/javascript; charset=utf-8$/ : /^text\/css; charset=utf-8$/);
		const r304 = await get(`${BASE}${asset}`, { "Accept-Encoding": "gzip", "If-None-Match": r.headers.etag });
		assert.equal(r304.status, 304, `${asset} revalidates`);
	}
	for (const asset of assets) assert.equal((await get(`${BASE}${asset}`)).status, 200, asset);
	// The API keeps its own policy and is never compressed.
	const api = await get(`${BASE}/api/health`, { "Accept-Encoding": "gzip" });
	assert.equal(api.headers["content-encoding"], undefined);
	assert.match(api.headers["content-security-policy"], /default-src 'none'/);
});

/* One person's whole session, step by step. */

const FLOW = "main flow";
let grace;

test(
	"sign up from the sign-in page",
	async () => {
		grace = await person();
		const { page } = grace;
		await page.goto(BASE);
		await expectValue(() => page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected"), "true");
		await expectVisible(page.getByRole("button", { name: "Sign in" }));
		assert.equal(await page.getByLabel("Name").count(), 0, "no Name field when signing in");
		await signUp(page, "Grace Hopper", email("grace"));
		await totalIs(page, 0);
		await expectVisible(page.getByText("Nothing here yet. Add your first todo."));
		await expectVisible(page.getByText("Grace Hopper"));
		await expectVisible(page.getByRole("button", { name: "Sign out" }));
		await assertTokenHidden(page);
	},
	{ flow: FLOW },
);

test(
	"add three todos (title required; description, priority, due date optional)",
	async () => {
		const { page } = grace;
		await addTodo(page, { title: "Buy milk" });
		await totalIs(page, 1);
		await addTodo(page, { title: "Write report", description: "Quarterly numbers", due: "2030-01-15T09:30" });
		await totalIs(page, 2);
		await addTodo(page, { title: "Call the plumber", priority: "low", due: "2029-06-01T14:00" });
		await totalIs(page, 3);
		await expectTitles(page, ["Call the plumber", "Write report", "Buy milk"]);
		// The form is empty again, ready for the next one.
		assert.equal(await addForm(page).getByLabel("Title").inputValue(), "");
		assert.equal(await addForm(page).getByLabel("Priority").inputValue(), "normal");
		// Due dates typed in New York time reach the API in UTC.
		const report = await todoByTitle(page, "Write report");
		assert.equal(report.dueAt, "2030-01-15T14:30:00.000Z");
		assert.equal(report.description, "Quarterly numbers");
		assert.equal(report.priority, "normal");
		const plumber = await todoByTitle(page, "Call the plumber");
		assert.equal(plumber.dueAt, "2029-06-01T18:00:00.000Z");
		assert.equal(plumber.priority, "low");
		assert.equal((await todoByTitle(page, "Buy milk")).dueAt, null);
		await expectText(item(page, "Call the plumber").locator("time"), "Jun 1, 2029, 2:00 PM");
		await expectVisible(item(page, "Call the plumber").getByText("Low priority"));
	},
	{ flow: FLOW },
);

test(
	"after a reload the session and the todos are still there",
	async () => {
		const { page } = grace;
		await page.reload();
		await totalIs(page, 3);
		await expectTitles(page, ["Call the plumber", "Write report", "Buy milk"]);
		await assertTokenHidden(page);
	},
	{ flow: FLOW },
);

test(
	"mark done and undone",
	async () => {
		const { page } = grace;
		await checkbox(page, "Buy milk").check();
		await expectVisible(status(page, "Marked “Buy milk” as done."));
		await eventually(async () => assert.equal(await checkbox(page, "Buy milk").isChecked(), true));
		assert.equal((await todoByTitle(page, "Buy milk")).completed, true);
		await checkbox(page, "Write report").check();
		await expectVisible(status(page, "Marked “Write report” as done."));
		await checkbox(page, "Write report").uncheck();
		await expectVisible(status(page, "Marked “Write report” as not done."));
		assert.equal((await todoByTitle(page, "Write report")).completed, false);
		assert.equal(await checkbox(page, "Write report").isChecked(), false);
	},
	{ flow: FLOW },
);

test(
	"edit title, description, priority and due date in place",
	async () => {
		const { page } = grace;
		await item(page, "Write report").getByRole("button", { name: "Edit" }).click();
		const form = page.getByRole("form", { name: "Edit Write report" });
		await expectVisible(form);
		assert.equal(await form.getByLabel("Title").inputValue(), "Write report");
		assert.equal(await form.getByLabel("Due date").inputValue(), "2030-01-15T09:30");
		await form.getByLabel("Title").fill("Write the report");
		await form.getByLabel("Description").fill("Q3 numbers and a summary");
		await form.getByLabel("Priority").selectOption("high");
		await form.getByLabel("Due date").fill("2030-02-01T08:00");
		await form.getByRole("button", { name: "Save" }).click();
		await expectVisible(status(page, "Saved “Write the report”."));
		const li = item(page, "Write the report");
		await expectVisible(li.getByText("Q3 numbers and a summary"));
		await expectVisible(li.getByText("High priority"));
		await expectText(li.locator("time"), "Feb 1, 2030, 8:00 AM");
		const saved = await todoByTitle(page, "Write the report");
		assert.equal(saved.dueAt, "2030-02-01T13:00:00.000Z");
		assert.equal(saved.priority, "high");
		assert.equal(saved.description, "Q3 numbers and a summary");
		// The cursor is back where the edit started.
		const f = await focused(page);
		assert.equal(f.text, "Edit");
		assert.equal(f.description, "Write the report");

		// Cancel leaves the todo as it was; an emptied due date clears it.
		await li.getByRole("button", { name: "Edit" }).click();
		const again = page.getByRole("form", { name: "Edit Write the report" });
		await again.getByLabel("Title").fill("Something else");
		await again.getByRole("button", { name: "Cancel" }).click();
		await expectVisible(item(page, "Write the report"));
		await item(page, "Buy milk").getByRole("button", { name: "Edit" }).click();
		const milk = page.getByRole("form", { name: "Edit Buy milk" });
		await milk.getByLabel("Due date").fill("2031-03-03T03:03");
		await milk.getByRole("button", { name: "Save" }).click();
		await expectVisible(status(page, "Saved “Buy milk”."));
		assert.equal((await todoByTitle(page, "Buy milk")).dueAt, "2031-03-03T08:03:00.000Z");
		await item(page, "Buy milk").getByRole("button", { name: "Edit" }).click();
		await page.getByRole("form", { name: "Edit Buy milk" }).getByLabel("Due date").fill("");
		await page.getByRole("form", { name: "Edit Buy milk" }).getByRole("button", { name: "Save" }).click();
		await expectVisible(status(page, "Saved “Buy milk”."));
		const milkSaved = await todoByTitle(page, "Buy milk");
		assert.equal(milkSaved.dueAt, null);
		assert.equal(milkSaved.completed, true, "editing keeps the completion");
	},
	{ flow: FLOW },
);

test(
	"filter by completed and by priority",
	async () => {
		const { page } = grace;
		const f = filters(page);
		await f.getByLabel("Status").selectOption({ label: "Done" });
		await expectTitles(page, ["Buy milk"]);
		await totalIs(page, 1);
		await f.getByLabel("Status").selectOption({ label: "Open" });
		await expectTitles(page, ["Call the plumber", "Write the report"]);
		await totalIs(page, 2);
		await f.getByLabel("Status").selectOption({ label: "All" });
		await f.getByLabel("Priority").selectOption({ label: "Low" });
		await expectTitles(page, ["Call the plumber"]);
		await f.getByLabel("Priority").selectOption({ label: "High" });
		await expectTitles(page, ["Write the report"]);
		await f.getByLabel("Status").selectOption({ label: "Done" });
		await expectTitles(page, []);
		await expectVisible(page.getByText("No todos match these filters."));
		await totalIs(page, 0);
		await f.getByLabel("Status").selectOption({ label: "All" });
		await f.getByLabel("Priority").selectOption({ label: "Any" });
		await expectTitles(page, ["Call the plumber", "Write the report", "Buy milk"]);
		await totalIs(page, 3);
	},
	{ flow: FLOW },
);

test(
	"search titles and descriptions (q)",
	async () => {
		const { page } = grace;
		const search = filters(page).getByLabel("Search");
		assert.equal(await search.evaluate((el) => el.type), "search");
		await search.fill("plumb");
		await expectTitles(page, ["Call the plumber"]);
		await totalIs(page, 1);
		await search.fill("SUMMARY");
		await expectTitles(page, ["Write the report"]);
		await search.fill("milk");
		await search.press("Enter");
		await expectTitles(page, ["Buy milk"]);
		await search.fill("zzz-nothing");
		await expectTitles(page, []);
		await totalIs(page, 0);
		await search.fill("");
		await expectTitles(page, ["Call the plumber", "Write the report", "Buy milk"]);
	},
	{ flow: FLOW },
);

test(
	"sort by every key of the contract in both directions",
	async () => {
		const { page } = grace;
		const sort = filters(page).getByLabel("Sort by");
		const cases = [
			["createdAt", ["Buy milk", "Write the report", "Call the plumber"]],
			["-createdAt", ["Call the plumber", "Write the report", "Buy milk"]],
			["dueAt", ["Call the plumber", "Write the report", "Buy milk"]],
			["-dueAt", ["Write the report", "Call the plumber", "Buy milk"]],
			["priority", ["Call the plumber", "Buy milk", "Write the report"]],
			["-priority", ["Write the report", "Buy milk", "Call the plumber"]],
			["title", ["Buy milk", "Call the plumber", "Write the report"]],
			["-title", ["Write the report", "Call the plumber", "Buy milk"]],
		];
		const offered = await sort.locator("option").evaluateAll((os) => os.map((o) => o.value));
		assert.deepEqual([...offered].sort(), cases.map((c) => c[0]).sort(), "one option per sort key and direction");
		for (const [value, want] of cases) {
			const seen = page.waitForResponse((r) => r.url().includes(`sort=${encodeURIComponent(value)}`));
			await sort.selectOption(value);
			await seen;
			await expectTitles(page, want);
		}
		await sort.selectOption("-createdAt");
		await expectTitles(page, ["Call the plumber", "Write the report", "Buy milk"]);
	},
	{ flow: FLOW },
);

test(
	"page through with Previous and Next when the total exceeds a page",
	async () => {
		const { page } = grace;
		const pager = page.getByRole("navigation", { name: "Pages" });
		assert.equal(await pager.isVisible(), false, "no pager for 3 todos");
		for (let i = 1; i <= 20; i++) {
			const res = await pageFetch(page, "POST", "/api/todos", { title: `Bulk ${String(i).padStart(2, "0")}` });
			assert.equal(res.status, 201);
		}
		await page.reload();
		await totalIs(page, 23);
		await expectVisible(pager);
		await expectText(pager.getByText(/of 23/), "1–20 of 23");
		await expectCount(todoList(page).getByRole("listitem"), 20);
		assert.equal((await titles(page))[0], "Bulk 20");
		assert.equal(await pager.getByRole("button", { name: "Previous" }).isDisabled(), true);
		await pager.getByRole("button", { name: "Next" }).click();
		await expectText(pager.getByText(/of 23/), "21–23 of 23");
		await expectTitles(page, ["Call the plumber", "Write the report", "Buy milk"]);
		assert.equal(await pager.getByRole("button", { name: "Next" }).isDisabled(), true);
		assert.equal((await focused(page)).text, "Previous", "focus moves to the button that still works");
		await pager.getByRole("button", { name: "Previous" }).click();
		await expectText(pager.getByText(/of 23/), "1–20 of 23");
		assert.equal((await titles(page))[0], "Bulk 20");
		await pager.getByRole("button", { name: "Next" }).click();
		await expectText(pager.getByText(/of 23/), "21–23 of 23");
	},
	{ flow: FLOW },
);

test(
	"delete",
	async () => {
		const { page } = grace;
		const milk = await todoByTitle(page, "Buy milk");
		await item(page, "Buy milk").getByRole("button", { name: "Delete", exact: true }).click();
		await expectVisible(status(page, "Deleted “Buy milk”."));
		await totalIs(page, 22);
		await expectTitles(page, ["Call the plumber", "Write the report"]);
		// (Asked outside the page, whose console would log the 404.)
		assert.equal((await grace.context.request.get(`${BASE}/api/todos/${milk.id}`)).status(), 404);
		// Tidy up the bulk todos; back to one page.
		const bulk = await pageFetch(page, "GET", "/api/todos?limit=200&q=Bulk");
		for (const t of bulk.body.items) assert.equal((await pageFetch(page, "DELETE", `/api/todos/${t.id}`)).status, 204);
		await page.reload();
		await totalIs(page, 2);
		assert.equal(await page.getByRole("navigation", { name: "Pages" }).isVisible(), false);
	},
	{ flow: FLOW },
);

test(
	"keyboard alone: add, toggle, edit, cancel, delete; focus is visible",
	async () => {
		const { page } = grace;
		await addForm(page).getByLabel("Title").focus();
		await page.keyboard.type("Keyboard only");
		await page.keyboard.press("Enter");
		await expectVisible(status(page, "Added “Keyboard only”."));
		await totalIs(page, 3);
		assert.equal((await focused(page)).label, "Title", "the cursor stays in Title for the next todo");

		await checkbox(page, "Keyboard only").focus();
		await page.keyboard.press("Space");
		await expectVisible(status(page, "Marked “Keyboard only” as done."));
		await eventually(async () => assert.equal(await checkbox(page, "Keyboard only").isChecked(), true));
		let f = await focused(page);
		assert.deepEqual([f.type, f.label], ["checkbox", "Keyboard only"], "focus survives the re-render");

		await page.keyboard.press("Tab");
		f = await focused(page);
		assert.deepEqual([f.text, f.description], ["Edit", "Keyboard only"]);
		assert.ok(f.focusVisible, "focus ring shown for keyboard focus");
		assert.match(f.outline, /^solid ([2-9]|\d\d)/, `outline: ${f.outline}`);
		await page.keyboard.press("Enter");
		f = await focused(page);
		assert.equal(f.label, "Title", "the edit form opens with the cursor in Title");
		await page.keyboard.press("Escape");
		f = await focused(page);
		assert.deepEqual([f.text, f.description], ["Edit", "Keyboard only"], "Escape cancels and returns to Edit");
		await page.keyboard.press("Enter");
		await page.keyboard.press("Control+A");
		await page.keyboard.type("Keyboard edited");
		await page.keyboard.press("Enter");
		await expectVisible(status(page, "Saved “Keyboard edited”."));
		await expectValue(async () => ((f = await focused(page)), [f.text, f.description]), ["Edit", "Keyboard edited"]);

		await page.keyboard.press("Tab");
		f = await focused(page);
		assert.deepEqual([f.text, f.description], ["Delete", "Keyboard edited"]);
		await page.keyboard.press("Enter");
		await expectVisible(status(page, "Deleted “Keyboard edited”."));
		await totalIs(page, 2);
		f = await focused(page);
		assert.equal(f.type, "checkbox", "focus moves to the next todo");
	},
	{ flow: FLOW },
);

test(
	"sign out, and be back at the sign-in form",
	async () => {
		const { page, context } = grace;
		await page.getByRole("button", { name: "Sign out" }).click();
		await expectVisible(page.getByRole("button", { name: "Sign in" }));
		await expectVisible(status(page, "You have signed out."));
		assert.equal(await page.getByLabel("Email").inputValue(), email("grace"));
		assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0);
		const cookies = await context.cookies(BASE);
		assert.ok(!cookies.some((c) => c.name === "todod_session"), "cookie cleared");
		await page.reload();
		await expectVisible(page.getByRole("button", { name: "Sign in" }));
		// The tabs work with the arrow keys.
		await page.getByRole("tab", { name: "Sign in" }).focus();
		await page.keyboard.press("ArrowRight");
		await expectValue(() => page.getByRole("tab", { name: "Sign up" }).getAttribute("aria-selected"), "true");
		await expectVisible(page.getByLabel("Name"));
		await page.keyboard.press("ArrowLeft");
		await expectVisible(page.getByRole("button", { name: "Sign in" }));
		assert.equal(await page.getByLabel("Name").count(), 0);
		// And signing in again shows the same list.
		await signIn(page, email("grace"));
		await totalIs(page, 2);
		await expectTitles(page, ["Call the plumber", "Write the report"]);
		await page.getByRole("button", { name: "Sign out" }).click();
		await expectVisible(page.getByRole("button", { name: "Sign in" }));
	},
	{ flow: FLOW },
);

test(
	"no console error, CSP violation or failed request during the whole flow",
	async () => {
		assert.deepEqual(grace.problems, []);
		await grace.context.close();
	},
	{ flow: FLOW },
);

/* Several people, and people with bad intentions. */

test("two people in two browser contexts never see each other's todos", async () => {
	const ann = await person();
	const bob = await person();
	await signUp(ann.page, "Ann", email("ann"));
	await signUp(bob.page, "Bob", email("bob"));
	await addTodo(ann.page, { title: "Ann's secret plan" });
	await addTodo(bob.page, { title: "Bob's shopping list" });
	for (const p of [ann.page, bob.page]) await p.reload();
	await expectTitles(ann.page, ["Ann's secret plan"]);
	await expectTitles(bob.page, ["Bob's shopping list"]);
	await totalIs(ann.page, 1);
	await totalIs(bob.page, 1);
	const secret = await todoByTitle(ann.page, "Ann's secret plan");
	assert.equal((await pageFetch(bob.page, "GET", `/api/todos/${secret.id}`)).status, 404);
	assert.equal((await pageFetch(bob.page, "PATCH", `/api/todos/${secret.id}`, { title: "Mine now" })).status, 404);
	assert.equal((await pageFetch(bob.page, "DELETE", `/api/todos/${secret.id}`)).status, 404);
	await bob.page.reload();
	await expectTitles(bob.page, ["Bob's shopping list"]);
	await ann.page.reload();
	await expectTitles(ann.page, ["Ann's secret plan"]);
	assert.deepEqual([...ann.problems, ...bob.problems].filter((p) => !/^response 404:|status of 404/.test(p)), []);
	await ann.context.close();
	await bob.context.close();
});

test("a cross-origin form post that carries the session cookie is refused (403 INVALID_ORIGIN)", async () => {
	const { context, page } = await person();
	await signUp(page, "Cy", email("cy"));
	await addTodo(page, { title: "Only mine" });
	// Another origin on the same site (another port of 127.0.0.1), so that
	// SameSite=Lax lets the cookie go along: only the Origin check stops it.
	const other = `http://127.0.0.1:${Number(new URL(BASE).port) === 65535 ? 1 : Number(new URL(BASE).port) + 1}`;
	await context.route(`${other}/**`, (route) =>
		route.fulfill({
			contentType: "text/html",
			body: `<!doctype html><title>Win a prize</title>
<form method="post" action="${BASE}/api/todos" enctype="text/plain">
<input type="hidden" name='{"title":"Forged","description":"' value='"}'>
<button>Claim your prize</button></form>`,
		}),
	);
	const evil = await context.newPage();
	pages.add(evil);
	await evil.goto(`${other}/prize.html`);
	const answer = evil.waitForResponse((r) => r.url() === `${BASE}/api/todos` && r.request().method() === "POST");
	await evil.getByRole("button", { name: "Claim your prize" }).click();
	const res = await answer;
	const sent = await res.request().allHeaders();
	assert.match(sent.cookie || "", /todod_session=/, "the browser sent the session cookie");
	assert.equal(sent.origin, other);
	assert.equal(res.status(), 403);
	assert.equal(JSON.parse(await res.text()).code, "INVALID_ORIGIN");
	await evil.close();
	await page.reload();
	await expectTitles(page, ["Only mine"]);
	assert.equal((await pageFetch(page, "GET", "/api/todos?q=Forged")).body.total, 0);
	await context.close();
});

test("a 422 from the API shows its message next to the field it names", async () => {
	const { context, page } = await person();
	await signUp(page, "Dee", email("dee"));
	const form = addForm(page);
	const title = form.getByLabel("Title");
	await title.fill("   ");
	await form.getByRole("button", { name: "Add" }).click();
	const message = form.getByText("title must be 1 to 200 characters after trimming.");
	await expectVisible(message);
	assert.equal(await title.getAttribute("aria-invalid"), "true");
	const messageId = await message.getAttribute("id");
	assert.ok((await title.getAttribute("aria-describedby")).split(" ").includes(messageId), "the message describes the field");
	const [fieldBox, messageBox] = [await title.boundingBox(), await message.boundingBox()];
	assert.ok(messageBox.y >= fieldBox.y + fieldBox.height && messageBox.y - (fieldBox.y + fieldBox.height) < 40, "right under the field");
	assert.equal((await focused(page)).label, "Title", "the cursor goes to the field");
	await totalIs(page, 0);
	// Fixing it clears the message.
	await title.fill("A real title");
	await form.getByRole("button", { name: "Add" }).click();
	await expectVisible(status(page, "Added “A real title”."));
	assert.equal(await message.count(), 0);
	assert.equal(await title.getAttribute("aria-invalid"), null);
	// A long title: the server counts characters.
	await title.fill("x".repeat(201));
	await form.getByRole("button", { name: "Add" }).click();
	await expectVisible(message);
	await context.close();
});

test("sign-up and sign-in errors: under Password, under Email, or in the form's alert", async () => {
	const { context, page } = await person();
	await page.goto(BASE);
	await page.getByRole("tab", { name: "Sign up" }).click();
	await page.getByLabel("Name").fill("Eve");
	await page.getByLabel("Email").fill(email("eve"));
	await page.getByLabel("Password").fill("short");
	await page.getByRole("button", { name: "Sign up" }).click();
	await expectVisible(page.getByText("password must be 8 to 128 characters."));
	assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
	await page.getByLabel("Email").fill(email("grace"));
	await page.getByLabel("Password").fill(PASSWORD);
	await page.getByRole("button", { name: "Sign up" }).click();
	await expectVisible(page.getByText("A user with this email already exists."));
	assert.equal(await page.getByLabel("Email").getAttribute("aria-invalid"), "true");
	assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), null);
	await page.getByRole("tab", { name: "Sign in" }).click();
	assert.equal(await page.getByLabel("Email").inputValue(), email("grace"), "the email carries over");
	await signIn(page, email("grace"), "not the password");
	await expectVisible(alertWith(page, "Invalid email or password."));
	assert.equal(await page.getByLabel("Password").inputValue(), "");
	await context.close();
});

test("an expired or revoked session returns to the sign-in form with a message", async () => {
	const { context, page, problems } = await person();
	await signUp(page, "Fay", email("fay"));
	await addTodo(page, { title: "Survives sign-in" });
	const expiredMessage = "Your session has expired. Please sign in again.";

	// The cookie's Max-Age ran out: the browser no longer sends it.
	await context.clearCookies();
	await checkbox(page, "Survives sign-in").click();
	await expectVisible(alertWith(page, expiredMessage));
	assert.equal(await page.getByLabel("Email").inputValue(), email("fay"));
	await page.getByLabel("Password").fill(PASSWORD);
	await page.getByRole("button", { name: "Sign in" }).click();
	await expectTitles(page, ["Survives sign-in"]);
	assert.equal((await todoByTitle(page, "Survives sign-in")).completed, false);

	// The session was revoked elsewhere: the cookie is there, refused.
	assert.equal((await pageFetch(page, "POST", "/api/auth/revoke-sessions")).status, 200);
	await addForm(page).getByLabel("Title").fill("Never created");
	await addForm(page).getByRole("button", { name: "Add" }).click();
	await expectVisible(alertWith(page, expiredMessage));
	await signIn(page, email("fay"));
	await expectTitles(page, ["Survives sign-in"]);
	// A reload with a refused cookie is simply signed out.
	assert.equal((await pageFetch(page, "POST", "/api/auth/revoke-sessions")).status, 200);
	await page.reload();
	await expectVisible(page.getByRole("button", { name: "Sign in" }));
	assert.deepEqual(problems.filter((p) => !/^response 401:/.test(p) && !/status of 401/.test(p)), []);
	await context.close();
});

test("429 says when to retry; 503, 500 and a lost connection are shown, never silent", async () => {
	const { context, page } = await person();
	await page.goto(BASE);
	await page.route("**/api/auth/sign-in/email", (route) =>
		route.fulfill({
			status: 429,
			headers: { "Retry-After": "30" },
			contentType: "application/json",
			body: JSON.stringify({ code: "TOO_MANY_REQUESTS", message: "Too many requests; try again later." }),
		}),
	);
	await signIn(page, email("grace"));
	await expectVisible(alertWith(page, "Too many requests. Try again in 30 seconds."));
	await page.unroute("**/api/auth/sign-in/email");

	await signUp(page, "Gus", email("gus"));
	await addTodo(page, { title: "Steady" });
	const list = (url) => url.pathname === "/api/todos";
	await page.route(list, (route) =>
		route.request().method() === "POST"
			? route.fulfill({
					status: 503,
					headers: { "Retry-After": "5" },
					contentType: "application/json",
					body: JSON.stringify({ code: "UNAVAILABLE", message: "The service is unavailable; try again shortly." }),
				})
			: route.abort("connectionrefused"),
	);
	await addForm(page).getByLabel("Title").fill("Not now");
	await addForm(page).getByRole("button", { name: "Add" }).click();
	await expectVisible(alertWith(addForm(page), "The service is unavailable; try again shortly. Try again in 5 seconds."));
	await filters(page).getByLabel("Sort by").selectOption("title");
	await expectVisible(alertWith(page, "The server cannot be reached. Check your connection and try again."));
	await page.unroute(list);

	await page.route(/\/api\/todos\/\d+$/, (route) => route.fulfill({ status: 500, contentType: "text/html", body: "<h1>oops</h1>" }));
	// click(), not check(): the failed write reverts the box at once, and
	// check() would fail on the state it no longer has.
	await checkbox(page, "Steady").click();
	await expectVisible(alertWith(page, "The server answered 500 Internal Server Error."));
	assert.equal(await checkbox(page, "Steady").isChecked(), false, "the checkbox shows the real state");
	await context.close();
});

test("the CSP is enforced: no inline script, no eval, no inline style", async () => {
	const { context, page, problems } = await person();
	const res = await page.goto(BASE);
	assert.match(res.headers()["content-security-policy"], /default-src 'self'/);
	await expectVisible(page.getByRole("button", { name: "Sign in" }));
	assert.deepEqual(problems, [], "the page itself raises nothing");
	const outcome = await page.evaluate(async () => {
		const s = document.createElement("script");
		s.textContent = "window.__inlineRan = true";
		document.head.append(s);
		// Later, from the page's own task: what evaluate() runs directly
		// is exempt from the policy's eval check.
		const evalResult = await new Promise((resolve) =>
			setTimeout(() => {
				try {
					resolve(String(eval("1 + 1")));
				} catch (e) {
					resolve(e.name);
				}
			}, 0),
		);
		const div = document.createElement("div");
		div.setAttribute("style", "color: rgb(255, 0, 0)");
		document.body.append(div);
		const color = getComputedStyle(div).color;
		div.remove();
		return { inline: window.__inlineRan === true, evalResult, color };
	});
	assert.equal(outcome.inline, false, "inline script blocked");
	assert.equal(outcome.evalResult, "EvalError", "eval blocked");
	assert.notEqual(outcome.color, "rgb(255, 0, 0)", "inline style blocked");
	await eventually(() => assert.ok(problems.filter((p) => p.startsWith("CSP violation")).length >= 3, problems.join("\n")));
	await context.close();
});

/* How it looks: the screenshots, and the layout at 1280 and 360 px. */

test("the signed-in list at 1280 px and at 360 px (screenshots)", async () => {
	const { context, page, problems } = await person({ viewport: { width: 1280, height: 800 } });
	await signUp(page, "Ada Lovelace", email("ada"));
	const samples = [
		{ title: "Water the plants", priority: "low", done: true },
		{ title: "Buy groceries", description: "Milk, eggs, coffee, apples.", priority: "low", done: true },
		{ title: "Call the plumber about the kitchen sink", dueAt: "2030-02-03T15:30:00.000Z" },
		{ title: "Write the quarterly report", description: "Numbers for Q3, with a one-page summary for the board.", priority: "high", dueAt: "2030-02-20T22:00:00.000Z" },
		{ title: "Renew passport", priority: "high", dueAt: "2030-02-28T14:00:00.000Z" },
		{ title: "Book flights to Lisbon", description: "Window seat, morning departure.", dueAt: "2030-03-14T13:00:00.000Z" },
	];
	for (const s of samples) {
		const { done, ...body } = s;
		const res = await pageFetch(page, "POST", "/api/todos", body);
		assert.equal(res.status, 201);
		if (done) assert.equal((await pageFetch(page, "PATCH", `/api/todos/${res.body.id}`, { completed: true })).status, 200);
	}
	await page.reload();
	await totalIs(page, 6);
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	assert.equal(await overflow(), 0, "no sideways scrolling at 1280 px");
	const [form, list] = [await addForm(page).boundingBox(), await todoList(page).boundingBox()];
	assert.ok(form.x + form.width <= list.x, "the new-todo form sits beside the list at 1280 px");
	await page.screenshot({ path: path.join(OUT, "screenshot-1280.png"), fullPage: true });

	await page.setViewportSize({ width: 360, height: 780 });
	await eventually(async () => assert.equal(await overflow(), 0, "no sideways scrolling at 360 px"));
	for (const b of await page.getByRole("button").all()) {
		const box = await b.boundingBox();
		if (box) assert.ok(box.x >= 0 && box.x + box.width <= 360, `button ${await b.textContent()} fits`);
	}
	const [form2, list2] = [await addForm(page).boundingBox(), await todoList(page).boundingBox()];
	assert.ok(form2.y + form2.height <= list2.y, "one column at 360 px");
	await page.screenshot({ path: path.join(OUT, "screenshot-360.png"), fullPage: true });
	assert.deepEqual(problems, []);
	await context.close();
});

/* Run. */

const failures = await (async () => {
	// As root (CI), Chromium refuses to start its sandbox: the tests run
	// it without one, on pages of this test's own private stack only.
	const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
	try {
		browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
	} catch (err) {
		console.log(`not ok - launch ${CHROMIUM}: ${err.message}`);
		console.log("RESULT passed=0 failed=1");
		return 1;
	}
	console.log(`# ${CHROMIUM} ${browser.version()}, ${BASE}`);
	try {
		return await run({
			onFailure: async (t) => {
				let n = 0;
				for (const p of pages) {
					if (p.isClosed()) continue;
					n += 1;
					const file = path.join(OUT, `failure-${t.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}-${n}.png`);
					await p.screenshot({ path: file, fullPage: true });
					console.log(`  # screenshot: ${file}`);
				}
			},
		});
	} finally {
		await browser.close();
	}
})();
process.exit(failures ? 1 : 0);
