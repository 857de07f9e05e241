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
  '/app.css': 'app.css'
}
