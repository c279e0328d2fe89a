// A static single-page app: everything renders in the browser (docs/WEBAPP.md).
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';
