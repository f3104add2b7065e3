// The signed-out view: one form at a time, "Sign in" or "Sign up", chosen
// with two tabs, so the visible form alone has fields labelled Name, Email
// and Password. On success the server sets the httpOnly session cookie;
// the page keeps nothing but the user it is told about.

import { auth, describe } from "./api.js";
import { clearFieldErrors, field, h, replaceChildren, showFieldError } from "./dom.js";

const MODES = {
	signin: { tab: "Sign in", button: "Sign in" },
	signup: { tab: "Sign up", button: "Sign up" },
};

// renderAuth(main, {mode, email, alert, notice, onSignedIn(user)}): alert is
// a problem to announce (an expired session), notice a plain status.
export function renderAuth(main, options) {
	const state = { mode: options.mode || "signin", email: options.email || "" };

	const tabs = {};
	const panel = h("div", { class: "tab-panel", role: "tabpanel" });
	const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Account" });
	for (const mode of Object.keys(MODES)) {
		const tab = h("button", { type: "button", role: "tab", class: "tab", id: `tab-${mode}` }, MODES[mode].tab);
		tab.addEventListener("click", () => select(mode, false));
		tab.addEventListener("keydown", (e) => {
			const keys = ["ArrowLeft", "ArrowRight", "Home", "End"];
			if (!keys.includes(e.key)) return;
			e.preventDefault();
			const order = Object.keys(MODES);
			let i = order.indexOf(mode);
			if (e.key === "ArrowLeft") i = (i + order.length - 1) % order.length;
			else if (e.key === "ArrowRight") i = (i + 1) % order.length;
			else i = e.key === "Home" ? 0 : order.length - 1;
			select(order[i], true);
			tabs[order[i]].focus();
		});
		tabs[mode] = tab;
		tablist.append(tab);
	}

	function select(mode, keepFocus) {
		const emailInput = panel.querySelector('[data-field="email"]');
		if (emailInput) state.email = emailInput.value;
		state.mode = mode;
		for (const [m, tab] of Object.entries(tabs)) {
			const on = m === mode;
			tab.setAttribute("aria-selected", String(on));
			tab.tabIndex = on ? 0 : -1;
			if (on) tab.setAttribute("aria-controls", "auth-panel");
			else tab.removeAttribute("aria-controls");
		}
		panel.id = "auth-panel";
		panel.setAttribute("aria-labelledby", tabs[mode].id);
		replaceChildren(panel, form(mode));
		if (!keepFocus) firstEmpty(panel).focus();
	}

	function form(mode) {
		const alert = h("div", { class: "alert", role: "alert" });
		const notice = h("div", { class: "notice", role: "status" });
		const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true });
		const email = h("input", { type: "email", name: "email", autocomplete: mode === "signup" ? "email" : "username", required: true, value: state.email, spellcheck: "false" });
		const password = h("input", { type: "password", name: "password", autocomplete: mode === "signup" ? "new-password" : "current-password", required: true });
		const submit = h("button", { type: "submit", class: "button primary wide" }, MODES[mode].button);
		const el = h(
			"form",
			{ class: "stack", novalidate: true, "aria-labelledby": tabs[mode].id },
			alert,
			notice,
			mode === "signup" ? field("Name", name, { field: "name" }) : null,
			field("Email", email, { field: "email" }),
			field("Password", password, mode === "signup" ? { field: "password", hint: "8 to 128 characters." } : { field: "password" }),
			submit,
		);
		if (options.alert) alert.textContent = options.alert;
		if (options.notice) notice.textContent = options.notice;
		options.alert = options.notice = undefined;

		let busy = false;
		el.addEventListener("submit", async (e) => {
			e.preventDefault();
			if (busy) return;
			busy = true;
			el.setAttribute("aria-busy", "true");
			alert.textContent = notice.textContent = "";
			clearFieldErrors(el);
			try {
				const res = mode === "signup" ? await auth.signUp(name.value, email.value, password.value) : await auth.signIn(email.value, password.value);
				options.onSignedIn(res.user);
			} catch (err) {
				if (err.status === 401) password.value = "";
				if (!(err.status === 422 && err.field && showFieldError(el, err.field, err.message))) {
					alert.textContent = describe(err);
					(err.status === 401 ? password : submit).focus();
				}
			} finally {
				busy = false;
				el.removeAttribute("aria-busy");
			}
		});
		return el;
	}

	replaceChildren(
		main,
		h(
			"section",
			{ class: "card narrow auth" },
			h("h1", {}, "Your todos, in one place"),
			h("p", { class: "lead" }, "Sign in, or create an account to start a list."),
			tablist,
			panel,
		),
	);
	select(state.mode, Boolean(options.keepFocus));
}

function firstEmpty(root) {
	const inputs = [...root.querySelectorAll("input")];
	return inputs.find((i) => !i.value) || inputs[0];
}
