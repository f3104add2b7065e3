// The page's only way to the server: same-origin fetch of /api/ routes with
// the httpOnly session cookie (the page never reads or keeps a token).
// Every failure becomes an ApiError carrying the contract's error body
// ({code, message, field?}) and, for 429 and 503, how long to wait.

export class ApiError extends Error {
	constructor(status, code, message, { field, retryAfter } = {}) {
		super(message);
		this.name = "ApiError";
		this.status = status;
		this.code = code;
		this.field = field;
		this.retryAfter = retryAfter;
	}
}

// Retry-After is either delta-seconds or an HTTP date; seconds either way.
function retryAfterSeconds(value) {
	if (!value) return undefined;
	if (/^\d+$/.test(value.trim())) return Number(value.trim());
	const at = Date.parse(value);
	if (Number.isNaN(at)) return undefined;
	return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// request("POST", "/api/todos", {title: "x"}, {"Idempotency-Key": k}):
// the parsed JSON body of a 2xx answer (null for 204), or throws ApiError.
export async function request(method, path, body, headers = {}) {
	const init = {
		method,
		headers: { Accept: "application/json", ...headers },
		credentials: "same-origin",
		cache: "no-store",
	};
	if (body !== undefined) {
		init.headers["Content-Type"] = "application/json";
		init.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, init);
	} catch {
		throw new ApiError(0, "NETWORK_ERROR", "The server cannot be reached. Check your connection and try again.");
	}
	// Read the body even when there is none (204): a response left unread
	// counts as an aborted request.
	const text = await res.text().catch(() => "");
	let data = null;
	let readable = true;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			readable = false;
		}
	}
	if (!res.ok) {
		const err = data && typeof data === "object" ? data : {};
		const message =
			typeof err.message === "string" && err.message
				? err.message
				: `The server answered ${res.status} ${res.statusText}`.trim() + ".";
		throw new ApiError(res.status, typeof err.code === "string" ? err.code : `HTTP_${res.status}`, message, {
			field: typeof err.field === "string" ? err.field : undefined,
			retryAfter: retryAfterSeconds(res.headers.get("Retry-After")),
		});
	}
	if (!readable) throw new ApiError(res.status, "BAD_RESPONSE", "The server sent an answer the page cannot read.");
	return data;
}

// The sentence shown for an error: the API's message, plus when to try
// again for 429 and 503.
export function describe(err) {
	if (!(err instanceof ApiError)) return `Something went wrong: ${err && err.message ? err.message : err}`;
	if (err.status === 429 || (err.status === 503 && err.retryAfter !== undefined)) {
		const wait = err.retryAfter ?? 60;
		const when = wait < 120 ? `${wait} ${wait === 1 ? "second" : "seconds"}` : `${Math.ceil(wait / 60)} minutes`;
		const base = err.status === 429 ? "Too many requests." : err.message;
		return `${base} Try again in ${when}.`;
	}
	return err.message;
}

export const auth = {
	session: () => request("GET", "/api/auth/get-session"),
	signUp: (name, email, password) => request("POST", "/api/auth/sign-up/email", { name, email, password }),
	signIn: (email, password) => request("POST", "/api/auth/sign-in/email", { email, password }),
	signOut: () => request("POST", "/api/auth/sign-out"),
};

// A value for Idempotency-Key: 128 random bits in hex. getRandomValues
// also works on a plain-HTTP origin, where crypto.randomUUID does not.
export function idempotencyKey() {
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const todos = {
	list: (params) => request("GET", `/api/todos?${new URLSearchParams(params)}`),
	create: (todo, key) => request("POST", "/api/todos", todo, { "Idempotency-Key": key }),
	update: (id, fields) => request("PATCH", `/api/todos/${encodeURIComponent(id)}`, fields),
	remove: (id) => request("DELETE", `/api/todos/${encodeURIComponent(id)}`),
};
