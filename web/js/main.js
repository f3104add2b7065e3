// The todo page: decides which view to show from the session cookie (via
// GET /api/auth/get-session, the page never sees a token) and switches
// between the sign-in view and the todo list as the session starts and ends.

import { auth, describe } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { renderAuth } from "./auth-view.js";
import { renderTodos } from "./todos-view.js";

const main = document.getElementById("main");
const account = document.getElementById("account");

function showAuth(options = {}) {
	document.title = "Sign in · todod";
	replaceChildren(account);
	renderAuth(main, { ...options, onSignedIn: (user) => showTodos(user, { focus: true }) });
}

function showTodos(user, { focus = false } = {}) {
	document.title = "Todos · todod";
	const signOut = h("button", { type: "button", class: "button secondary" }, "Sign out");
	const error = h("p", { class: "account-error", role: "alert" });
	signOut.addEventListener("click", async () => {
		error.textContent = "";
		try {
			await auth.signOut();
		} catch (err) {
			// An expired session is signed out already; anything else stays.
			if (err.status !== 401) {
				error.textContent = describe(err);
				return;
			}
		}
		showAuth({ email: user.email, notice: "You have signed out." });
	});
	replaceChildren(
		account,
		h("span", { class: "account-name" }, h("span", { class: "account-label" }, "Signed in as "), user.name),
		signOut,
		error,
	);
	renderTodos(main, {
		focus,
		onExpired: () => showAuth({ email: user.email, alert: "Your session has expired. Please sign in again." }),
	});
}

// The first screen: who is signed in, or why that cannot be known.
async function boot() {
	let session;
	try {
		session = await auth.session();
	} catch (err) {
		const retry = h("button", { type: "button", class: "button" }, "Try again");
		retry.addEventListener("click", () => {
			replaceChildren(main, h("p", { class: "loading" }, "Loading…"));
			boot();
		});
		replaceChildren(
			main,
			h("section", { class: "card narrow" }, h("h1", {}, "The app cannot start"), h("p", { class: "alert", role: "alert" }, describe(err)), retry),
		);
		return;
	}
	if (session && session.user) showTodos(session.user);
	else showAuth();
}

boot();
