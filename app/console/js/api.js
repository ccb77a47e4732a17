// The console's only way to the server: POST /graphql, the public API, with the session as a Bearer token.
// The session token lives in sessionStorage (gone when the tab closes) and never in a URL.

const SESSION_KEY = "keyward.session";

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const session = {
  get: () => sessionStorage.getItem(SESSION_KEY),
  set: (token) => sessionStorage.setItem(SESSION_KEY, token),
  clear: () => sessionStorage.removeItem(SESSION_KEY),
};

/** Listeners learn when the server refused the session (expired, logged out elsewhere). */
export const signedOut = new EventTarget();

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = session.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError("The server could not be reached. Check your connection and try again.", "NETWORK", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a readable body.`, "BAD_RESPONSE",
      response.status);
  }
  const first = body && body.errors && body.errors[0];
  if (response.status === 401) {
    session.clear();
    const message = first ? first.message : "Your session has ended.";
    signedOut.dispatchEvent(new CustomEvent("signed-out", { detail: message }));
    throw new ApiError(message, "UNAUTHENTICATED", 401);
  }
  if (first) {
    const code = (first.extensions && first.extensions.code) || "ERROR";
    throw new ApiError(explain(code, first.message), code, response.status);
  }
  if (!response.ok) throw new ApiError(`The server answered ${response.status}.`, "HTTP", response.status);
  return body.data;
}

function explain(code, message) {
  if (code === "FORBIDDEN") return `Not allowed: ${message}`;
  return message;
}
