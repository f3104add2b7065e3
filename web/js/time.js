// Due dates: the API speaks RFC 3339 UTC, <input type="datetime-local">
// speaks the person's local wall-clock time without a zone.

const pad = (n) => String(n).padStart(2, "0");

// "2026-11-25T02:00:00.000Z" -> "2026-11-24T21:00" (in New York); "" for null.
export function toLocalInput(iso) {
	if (!iso) return "";
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return "";
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The inverse: the input's local time as RFC 3339 UTC; null for "".
// undefined when the text is not a date the browser can read.
export function fromLocalInput(value) {
	if (!value) return null;
	const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
	if (!m) return undefined;
	const [, y, mo, d, hh, mm, ss] = m.map(Number);
	const date = new Date(y, mo - 1, d, hh, mm, ss || 0);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const longFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// How a due date reads in the list, e.g. "Nov 24, 2026, 9:00 PM".
export function formatDue(iso) {
	return longFormat.format(new Date(iso));
}

export function isPast(iso, now = Date.now()) {
	return Boolean(iso) && new Date(iso).getTime() < now;
}
