/** Cookie holding a page session of the UI server (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'cachepoint_ui'
/** Name of the launch key in the page URL's fragment (never sent to a server by the browser). */
export const LAUNCH_KEY_PARAM = 'key'
/** The page exchanges the launch key for a session cookie here. */
export const SESSION_PATH = '/session'
/** Files of the built page that the UI server serves (in dist/web). */
export const WEB_FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  '/favicon.svg': 'favicon.svg',
  // browsers ask for /favicon.ico on their own: the same icon
  '/favicon.ico': 'favicon.svg'
}
/**
 * The only control API routes the UI server proxies: what the page uses
 * (packages/ui/web/main.ts). Everything else (import, export, NBD exports,
 * personal restore, ...) is not reachable through the page's session.
 */
export const PROXIED_ROUTES: ReadonlySet<string> = new Set([
  'GET /v1/status',
  'GET /v1/peers',
  'GET /v1/events',
  'POST /v1/pause',
  'POST /v1/resume',
  'POST /v1/sync',
  'GET /v1/images/rollout'
])
/** Host names under which the UI server answers (with its port): loopback only, no DNS name that could be rebound. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]']
/** Largest body of a POST to /session (it carries only the launch key). */
export const MAX_SESSION_BODY_BYTES = 4096
