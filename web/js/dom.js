// DOM helpers for the page: element creation without innerHTML (user text
// only ever reaches the page as text nodes), form field rows with their
// error slots, and focus handling across re-renders.

let nextId = 0;

// A page-unique id for label/control/description links.
export function uid(prefix) {
	nextId += 1;
	return `${prefix}-${nextId}`;
}

// Properties set after the children exist (a select's value needs its
// options), and never as attributes. (An option's "selected" stays an
// attribute: it is the default that form.reset() returns to.)
const PROPS = new Set(["value", "checked", "indeterminate"]);

// h("button", {class: "x", onclick: fn}, "text", child, [more children])
export function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);
	const later = [];
	for (const [key, value] of Object.entries(attrs)) {
		if (value === undefined || value === null || value === false) continue;
		if (key === "class") el.className = value;
		else if (key.startsWith("on") && typeof value === "function")
			el.addEventListener(key.slice(2), value);
		else if (PROPS.has(key)) later.push([key, value]);
		else el.setAttribute(key, value === true ? "" : String(value));
	}
	append(el, children);
	for (const [key, value] of later) el[key] = value;
	return el;
}

function append(el, children) {
	for (const child of children) {
		if (child === undefined || child === null || child === false) continue;
		if (Array.isArray(child)) append(el, child);
		else el.append(child instanceof Node ? child : String(child));
	}
}

// A labelled form row: label, control, optional hint, and an error slot
// that showFieldError fills. The control carries data-field (the API's
// name for it, as in a 422's "field") and is described by hint and error.
export function field(label, control, { hint, field: name } = {}) {
	const id = control.id || uid("f");
	control.id = id;
	if (name) control.dataset.field = name;
	const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
	const errorEl = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
	control.setAttribute("aria-describedby", [hintEl && hintEl.id, errorEl.id].filter(Boolean).join(" "));
	return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl, errorEl);
}

// Show message under the control named by the API field; false when the
// form has no such control (the caller shows it in the form's alert).
export function showFieldError(form, name, message) {
	const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
	if (!control) return false;
	const errorEl = document.getElementById(`${control.id}-error`);
	errorEl.textContent = message;
	errorEl.hidden = false;
	control.setAttribute("aria-invalid", "true");
	control.focus();
	return true;
}

export function clearFieldErrors(form) {
	for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
	for (const errorEl of form.querySelectorAll(".field-error")) {
		errorEl.textContent = "";
		errorEl.hidden = true;
	}
}

// Replace the children of el, keeping keyboard focus on the element with
// the same data-focus key when there is one after the change (a re-render
// must not throw a keyboard user back to the top of the page).
export function replaceChildren(el, ...children) {
	const active = document.activeElement;
	const key = active && el.contains(active) ? active.dataset.focus : undefined;
	el.replaceChildren();
	append(el, children);
	if (key) focusKey(el, key);
}

// Focus the element with data-focus=key inside root; true when it could.
export function focusKey(root, key) {
	const target = root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
	if (target && !target.disabled) {
		target.focus();
		return document.activeElement === target;
	}
	return false;
}

// Number words the way the page shows counts: "1 todo", "3 todos".
export function plural(n, one, many) {
	return `${n} ${n === 1 ? one : many}`;
}
