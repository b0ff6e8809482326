// Whether this context can share a connection (src/client/share.js): Web Locks and
// BroadcastChannel. Old browsers and some workers have neither; their clients connect
// on their own (role "solo"). A module of its own, so that the npm package's entry
// knows it at once (scripts/pkg.sh appends it there without its `export`) and loads
// share.js only for a client that shares.
export const sseCanShare = () =>
  typeof BroadcastChannel === "function" &&
  typeof navigator === "object" &&
  typeof navigator.locks?.request === "function";
