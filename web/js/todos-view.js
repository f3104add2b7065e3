// The signed-in view: a form to add a todo, the list with its total,
// filters, search, sort and pages, and per item: done/undone, edit in
// place, delete. The server is the only source of truth: after every write
// the current page is fetched again, so the total, the filters and the
// order always match what the API says.

import { describe, idempotencyKey, todos } from "./api.js";
import { clearFieldErrors, field, focusKey, h, plural, replaceChildren, showFieldError, uid } from "./dom.js";
import { formatDue, fromLocalInput, isPast, toLocalInput } from "./time.js";

const PAGE_SIZE = 20;

const PRIORITIES = [
	["low", "Low"],
	["normal", "Normal"],
	["high", "High"],
];

// Every sort key of the contract, both directions.
const SORTS = [
	["-createdAt", "Newest first"],
	["createdAt", "Oldest first"],
	["dueAt", "Due date, soonest first"],
	["-dueAt", "Due date, latest first"],
	["-priority", "Priority, high to low"],
	["priority", "Priority, low to high"],
	["title", "Title, A to Z"],
	["-title", "Title, Z to A"],
];

function options(pairs, selected) {
	return pairs.map(([value, label]) => h("option", { value, selected: value === selected }, label));
}

function prioritySelect(value = "normal") {
	return h("select", { name: "priority" }, options(PRIORITIES, value));
}

// renderTodos(main, {focus, onExpired}): focus puts the cursor in the new
// todo's title; onExpired is called on a 401 (the session has ended).
export function renderTodos(main, { focus, onExpired }) {
	const state = { q: "", completed: "", priority: "", sort: "-createdAt", offset: 0, items: [], total: 0, editing: null };
	let loadSeq = 0;
	let loadFailed = false;
	let expired = false;

	// Errors: a 401 ends the session; a 422 naming a field of the form
	// goes under that field; everything else into the visible alert.
	function fail(err, alertEl, form) {
		if (!list.isConnected) return; // the view is gone (signed out meanwhile)
		if (err.status === 401) {
			if (!expired) {
				expired = true;
				onExpired();
			}
			return;
		}
		if (form && err.status === 422 && err.field && showFieldError(form, err.field, err.message)) return;
		alertEl.textContent = describe(err);
	}

	// What the last action did, announced once the list shows it.
	function say(text) {
		notice.textContent = text;
	}

	/* The new todo form. */
	const addAlert = h("div", { class: "alert", role: "alert" });
	const addTitle = h("input", { type: "text", name: "title", autocomplete: "off", required: true });
	const addDesc = h("textarea", { name: "description", rows: "3" });
	const addPriority = prioritySelect();
	const addDue = h("input", { type: "datetime-local", name: "dueAt" });
	const addForm = h(
		"form",
		{ class: "stack", novalidate: true, "aria-labelledby": "new-todo-heading" },
		addAlert,
		field("Title", addTitle, { field: "title" }),
		field("Description", addDesc, { field: "description", hint: "Optional." }),
		h("div", { class: "row" }, field("Priority", addPriority, { field: "priority" }), field("Due date", addDue, { field: "dueAt", hint: "Optional." })),
		h("button", { type: "submit", class: "button primary" }, "Add"),
	);
	// One key per intended todo: a retry after a lost answer reuses it
	// (the server then returns the first result), any edit starts afresh.
	let addKey = null;
	addForm.addEventListener("input", () => {
		addKey = null;
	});
	let adding = false;
	addForm.addEventListener("submit", async (e) => {
		e.preventDefault();
		if (adding) return;
		addAlert.textContent = "";
		clearFieldErrors(addForm);
		const dueAt = fromLocalInput(addDue.value);
		if (dueAt === undefined) {
			showFieldError(addForm, "dueAt", "Enter a complete date and time, or leave the due date empty.");
			return;
		}
		const body = { title: addTitle.value, description: addDesc.value, priority: addPriority.value };
		if (dueAt) body.dueAt = dueAt;
		addKey = addKey || idempotencyKey();
		adding = true;
		addForm.setAttribute("aria-busy", "true");
		try {
			const todo = await todos.create(body, addKey);
			addKey = null;
			addForm.reset();
			addTitle.focus();
			state.offset = 0;
			await load();
			say(`Added “${todo.title}”.`);
		} catch (err) {
			if (err.status && err.status < 500) addKey = null;
			fail(err, addAlert, addForm);
		} finally {
			adding = false;
			addForm.removeAttribute("aria-busy");
		}
	});

	/* Filters, search and sort. */
	const search = h("input", { type: "search", name: "q", autocomplete: "off", "data-focus": "search" });
	const status = h("select", { name: "completed" }, options([["", "All"], ["false", "Open"], ["true", "Done"]], ""));
	const priority = h("select", { name: "priority" }, options([["", "Any"], ...PRIORITIES], ""));
	const sort = h("select", { name: "sort" }, options(SORTS, state.sort));
	const filters = h(
		"form",
		{ class: "filters", role: "search", "aria-label": "Filter todos" },
		h("div", { class: "filter-search" }, field("Search", search)),
		field("Status", status),
		field("Priority", priority),
		field("Sort by", sort),
	);
	function applyFilters() {
		state.q = search.value.trim();
		state.completed = status.value;
		state.priority = priority.value;
		state.sort = sort.value;
		state.offset = 0;
		load();
	}
	let searchTimer = null;
	search.addEventListener("input", () => {
		clearTimeout(searchTimer);
		searchTimer = setTimeout(applyFilters, 250);
	});
	filters.addEventListener("change", (e) => {
		if (e.target !== search) applyFilters();
	});
	filters.addEventListener("submit", (e) => {
		e.preventDefault();
		clearTimeout(searchTimer);
		applyFilters();
	});

	/* The list. */
	const heading = h("h2", { id: "list-heading", tabindex: "-1" }, "Your todos");
	const total = h("p", { class: "total", "aria-live": "polite" });
	const listAlert = h("div", { class: "alert", role: "alert" });
	const notice = h("div", { class: "notice", role: "status" });
	const list = h("ul", { class: "todo-list", "aria-labelledby": "list-heading" });
	const empty = h("p", { class: "empty", hidden: true });
	const prev = h("button", { type: "button", class: "button secondary", "data-focus": "prev" }, "Previous");
	const next = h("button", { type: "button", class: "button secondary", "data-focus": "next" }, "Next");
	const range = h("span", { class: "range" });
	const pager = h("nav", { class: "pager", "aria-label": "Pages", hidden: true }, prev, range, next);
	// The cursor stays on the button pressed, or moves to the other one
	// when the first or last page made it unusable.
	const pagerFocus = () => (state.offset === 0 ? "next" : state.offset + PAGE_SIZE >= state.total ? "prev" : undefined);
	prev.addEventListener("click", () => {
		state.offset = Math.max(0, state.offset - PAGE_SIZE);
		load({ focus: () => pagerFocus() || "prev" });
	});
	next.addEventListener("click", () => {
		state.offset += PAGE_SIZE;
		load({ focus: () => pagerFocus() || "next" });
	});

	function params() {
		const p = { limit: String(PAGE_SIZE), offset: String(state.offset), sort: state.sort };
		if (state.q) p.q = state.q;
		if (state.completed) p.completed = state.completed;
		if (state.priority) p.priority = state.priority;
		return p;
	}

	// Fetch the current page; only the answer to the latest request is
	// shown (typing in Search sends several). focus names a data-focus key
	// to put the cursor on afterwards, or a function choosing it.
	async function load({ focus: want } = {}) {
		if (!list.isConnected) return;
		const seq = ++loadSeq;
		list.setAttribute("aria-busy", "true");
		try {
			const page = await todos.list(params());
			if (seq !== loadSeq) return;
			if (page.items.length === 0 && state.offset > 0 && page.total > 0) {
				// The page emptied (its last todo was deleted): show the last page there is.
				state.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
				load({ focus: want });
				return;
			}
			state.items = page.items;
			state.total = page.total;
			// A failed load's alert is over once a load works again.
			if (loadFailed) listAlert.textContent = "";
			loadFailed = false;
			render(typeof want === "function" ? want() : want);
		} catch (err) {
			if (seq === loadSeq) {
				fail(err, listAlert);
				loadFailed = true;
			}
		} finally {
			if (seq === loadSeq) list.removeAttribute("aria-busy");
		}
	}

	function render(want) {
		const active = document.activeElement;
		const hadFocus = active && (list.contains(active) || pager.contains(active));
		const key = want || (hadFocus ? active.dataset.focus : undefined);
		state.editing = null;
		total.textContent = plural(state.total, "todo", "todos");
		list.replaceChildren(...state.items.map(itemView));
		const filtered = state.q || state.completed || state.priority;
		empty.hidden = state.items.length > 0;
		empty.textContent = filtered ? "No todos match these filters." : "Nothing here yet. Add your first todo.";
		pager.hidden = state.total <= PAGE_SIZE;
		prev.disabled = state.offset === 0;
		next.disabled = state.offset + PAGE_SIZE >= state.total;
		const last = Math.min(state.offset + state.items.length, state.total);
		range.textContent = state.items.length ? `${state.offset + 1}–${last} of ${state.total}` : "";
		if (key && !focusKey(main, key) && (hadFocus || want)) heading.focus();
	}

	/* One todo, shown. */
	function itemView(todo) {
		const titleId = uid("todo-title");
		const checkbox = h("input", { type: "checkbox", id: uid("todo-done"), "aria-labelledby": titleId, "data-focus": `done:${todo.id}`, checked: todo.completed });
		checkbox.addEventListener("change", () => toggle(todo, checkbox));
		const edit = h("button", { type: "button", class: "button small secondary", "aria-describedby": titleId, "data-focus": `edit:${todo.id}` }, "Edit");
		const del = h("button", { type: "button", class: "button small danger", "aria-describedby": titleId, "data-focus": `delete:${todo.id}` }, "Delete");
		const li = h(
			"li",
			{ class: todo.completed ? "todo done" : "todo", "data-id": todo.id },
			checkbox,
			h(
				"div",
				{ class: "todo-body" },
				h("label", { for: checkbox.id, id: titleId, class: "todo-title" }, todo.title),
				todo.description ? h("p", { class: "todo-desc" }, todo.description) : null,
				meta(todo),
			),
			h("div", { class: "todo-actions" }, edit, del),
		);
		edit.addEventListener("click", () => startEdit(todo, li));
		del.addEventListener("click", () => remove(todo));
		return li;
	}

	function meta(todo) {
		const parts = [];
		if (todo.priority !== "normal")
			parts.push(h("span", { class: `badge priority-${todo.priority}` }, todo.priority === "high" ? "High priority" : "Low priority"));
		if (todo.dueAt) {
			const overdue = !todo.completed && isPast(todo.dueAt);
			parts.push(
				h(
					"span",
					{ class: overdue ? "due overdue" : "due" },
					overdue ? "Overdue: " : "Due ",
					h("time", { datetime: todo.dueAt }, formatDue(todo.dueAt)),
				),
			);
		}
		return parts.length ? h("p", { class: "todo-meta" }, parts) : null;
	}

	async function toggle(todo, checkbox) {
		listAlert.textContent = notice.textContent = "";
		const completed = checkbox.checked;
		try {
			await todos.update(todo.id, { completed });
			await load();
			say(`Marked “${todo.title}” as ${completed ? "done" : "not done"}.`);
		} catch (err) {
			checkbox.checked = !completed;
			fail(err, listAlert);
			if (err.status === 404) load();
		}
	}

	async function remove(todo) {
		listAlert.textContent = notice.textContent = "";
		const index = state.items.findIndex((t) => t.id === todo.id);
		try {
			await todos.remove(todo.id);
		} catch (err) {
			fail(err, listAlert);
			if (err.status === 404) load();
			return;
		}
		// The cursor goes to the todo that took its place, or the one before.
		await load({
			focus: () => {
				const t = state.items[Math.min(index, state.items.length - 1)];
				return t ? `done:${t.id}` : "list";
			},
		});
		say(`Deleted “${todo.title}”.`);
	}

	/* One todo, edited in place. */
	function startEdit(todo, li) {
		if (state.editing) cancelEdit();
		const alert = h("div", { class: "alert", role: "alert" });
		const title = h("input", { type: "text", name: "title", autocomplete: "off", required: true, value: todo.title });
		const desc = h("textarea", { name: "description", rows: "3", value: todo.description });
		const prio = prioritySelect(todo.priority);
		const due = h("input", { type: "datetime-local", name: "dueAt", value: toLocalInput(todo.dueAt) });
		const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel");
		const form = h(
			"form",
			{ class: "stack edit-form", novalidate: true, "aria-label": `Edit ${todo.title}` },
			alert,
			field("Title", title, { field: "title" }),
			field("Description", desc, { field: "description" }),
			h("div", { class: "row" }, field("Priority", prio, { field: "priority" }), field("Due date", due, { field: "dueAt" })),
			h("div", { class: "actions" }, h("button", { type: "submit", class: "button primary" }, "Save"), cancel),
		);
		const view = [...li.childNodes];
		li.replaceChildren(form);
		li.classList.add("editing");
		state.editing = { li, view, todo };
		title.focus();

		cancel.addEventListener("click", cancelEdit);
		form.addEventListener("keydown", (e) => {
			if (e.key === "Escape") {
				e.preventDefault();
				cancelEdit();
			}
		});
		let saving = false;
		form.addEventListener("submit", async (e) => {
			e.preventDefault();
			if (saving) return;
			alert.textContent = "";
			clearFieldErrors(form);
			const dueAt = fromLocalInput(due.value);
			if (dueAt === undefined) {
				showFieldError(form, "dueAt", "Enter a complete date and time, or leave the due date empty.");
				return;
			}
			saving = true;
			form.setAttribute("aria-busy", "true");
			try {
				const saved = await todos.update(todo.id, { title: title.value, description: desc.value, priority: prio.value, dueAt });
				await load({ focus: `edit:${todo.id}` });
				say(`Saved “${saved.title}”.`);
			} catch (err) {
				fail(err, alert, form);
				if (err.status === 404) load();
			} finally {
				saving = false;
				form.removeAttribute("aria-busy");
			}
		});
	}

	function cancelEdit() {
		const editing = state.editing;
		if (!editing) return;
		state.editing = null;
		editing.li.classList.remove("editing");
		editing.li.replaceChildren(...editing.view);
		focusKey(editing.li, `edit:${editing.todo.id}`);
	}

	heading.dataset.focus = "list";
	replaceChildren(
		main,
		h("h1", { class: "visually-hidden" }, "Todos"),
		h(
			"div",
			{ class: "layout" },
			h("section", { class: "card new-todo", "aria-labelledby": "new-todo-heading" }, h("h2", { id: "new-todo-heading" }, "New todo"), addForm),
			h(
				"section",
				{ class: "card list-card", "aria-labelledby": "list-heading" },
				h("div", { class: "list-head" }, heading, total),
				filters,
				listAlert,
				notice,
				list,
				empty,
				pager,
			),
		),
	);
	if (focus) addTitle.focus();
	load();
}
