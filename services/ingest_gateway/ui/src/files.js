// Files: GET /api/v1/files — each tenant's day files and archives with
// sizes and line counts (verification state does not exist yet).

import { getJson } from './api.js';
import { h, bytes, num } from './util.js';

export function files(main, ctx) {
  const error = h('p', { class: 'error', role: 'alert' });
  const body = h('div', { id: 'files' });
  const refresh = h('button', { type: 'button', text: 'Refresh' });
  main.append(h('h1', { text: 'Files' }), refresh, error, body);
  const table = (caption, head, rows) =>
    h('table', {}, h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, head.map((t, i) => h('th', { scope: 'col', class: i ? 'num' : '', text: t })))),
      h('tbody', {}, rows.length ? rows : [h('tr', {}, h('td', { colspan: String(head.length), text: 'none' }))]));
  async function load() {
    error.textContent = '';
    let data;
    try {
      data = await getJson('/api/v1/files');
    } catch (e) {
      error.textContent = e.message;
      ctx.onAuthError(e);
      return;
    }
    body.replaceChildren(
      ...data.tenants.map((t) =>
        h('section', { class: 'panel', 'aria-label': `Tenant ${t.tenant}` },
          h('h2', {}, 'Tenant ', h('code', { text: t.tenant })),
          table('Day files', ['File', 'Size', 'Lines'],
            t.days.map((d) => h('tr', {}, h('td', { text: d.file }), h('td', { class: 'num', text: bytes(d.bytes) }), h('td', { class: 'num', text: num(d.lines) })))),
          table('Archives', ['Archive / entry', 'Size', 'Lines'],
            t.archives.flatMap((a) => [
              h('tr', {}, h('td', { text: a.file }), h('td', { class: 'num', text: bytes(a.bytes) }), h('td', { class: 'num', text: '' })),
              ...a.entries.map((e) => h('tr', { class: 'sub' }, h('td', { text: `↳ ${e.name}` }), h('td', { class: 'num', text: bytes(e.bytes) }), h('td', { class: 'num', text: num(e.lines) }))),
            ])),
        ),
      ),
    );
  }
  refresh.addEventListener('click', load);
  load();
  return () => {};
}
