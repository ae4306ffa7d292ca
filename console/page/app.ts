/**
 * The reviewer console's page: the queue of everything waiting for a person, a run's detail, one-click decisions and
 * keyboard shortcuts. Plain DOM, no framework: the page is one table, one panel and a few buttons, and the server
 * sends everything already shaped. Built into console/bundle/app.js by `npm run build:console` (esbuild).
 */

interface Choice {
  readonly id: string;
  readonly label: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly label: string; readonly options: readonly string[]; readonly value: string | null }>;
}

interface Decision {
  readonly verb: string;
  readonly key: string;
  readonly kind: 'review' | 'approval' | 'task';
  readonly title: string;
  readonly reason: string;
  readonly approvers: readonly string[];
  readonly deadline: string;
  readonly timeLeftS: number;
  readonly atDeadline: string;
  readonly reminded: readonly string[];
  readonly mine: boolean;
  readonly choices: readonly Choice[];
}

interface QueueItem {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly phase: string | null;
  readonly startedAt: string;
  readonly ageS: number;
  readonly labels: Readonly<Record<string, string | null>>;
  readonly promptVersion: string | null;
  readonly confidence: number | null;
  readonly link: string | null;
  readonly decision: Decision | null;
}

interface RunView {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly link: string | null;
  readonly trigger: unknown;
  readonly detail: {
    readonly output: unknown;
    readonly issues: readonly string[];
    readonly confidence: number | null;
    readonly promptVersion: string | null;
    readonly modelTrail: ReadonlyArray<{ model: string; provider: string; event: string; detail: string }>;
    readonly costUsd: number;
    readonly evidenceIds: readonly string[];
    readonly labels: Readonly<Record<string, string | null>>;
    readonly decided: { by: string; action: string; note?: string } | null;
  } | null;
  readonly waiting: readonly Decision[];
  readonly evidence: ReadonlyArray<{ id: string; step: string; tool: string; status: string; at: string; approver: string | null; detail: string | null }>;
}

interface GradeItem {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly promptVersion: string;
  readonly sampledAt: string;
  readonly link: string | null;
  readonly fields: Choice['fields'];
}

interface Answer {
  readonly status: string;
  readonly message?: string;
}

const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

const ui = {
  me: null as { reviewerId: string; roles: string[] } | null,
  items: [] as QueueItem[],
  now: Date.now(),
  filters: { workflow: '', prompt: '', labels: {} as Record<string, string> },
  sort: 'deadline' as 'deadline' | 'age',
  selected: 0,
  run: null as RunView | null,
  correcting: null as { decision: Decision; choice: Choice } | null,
  answer: null as (Answer & { run: string }) | null,
  help: false,
  live: false,
  note: '',
  view: 'queue' as 'queue' | 'grading',
  grading: [] as GradeItem[],
  grade: null as GradeItem | null,
  gradeIncorrect: false,
};

type Child = Node | string | null | undefined | false;

function h(tag: string, attrs: Record<string, string | boolean | ((e: Event) => void) | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

async function api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(path, { ...init, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...(init?.headers ?? {}) } });
  if (res.status === 401) {
    location.href = '/login';
    throw new Error('signed out');
  }
  return { status: res.status, body: (await res.json()) as T };
}

function duration(seconds: number): string {
  const s = Math.abs(seconds);
  const text = s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 2 * 86_400 ? `${(s / 3600).toFixed(1)}h` : `${(s / 86_400).toFixed(1)}d`;
  return seconds < 0 ? `overdue ${text}` : text;
}

/** The queue after filters, in the chosen order (soonest deadline first by default). */
function visible(): QueueItem[] {
  const f = ui.filters;
  const rows = ui.items.filter(
    (i) =>
      (!f.workflow || i.workflowType === f.workflow) &&
      (!f.prompt || i.promptVersion === f.prompt) &&
      Object.entries(f.labels).every(([k, v]) => !v || i.labels[k] === v),
  );
  const due = (i: QueueItem) => (i.decision ? Date.parse(i.decision.deadline) : Number.POSITIVE_INFINITY);
  return rows.sort((a, b) => (ui.sort === 'deadline' ? due(a) - due(b) : b.ageS - a.ageS));
}

function select(name: string, label: string, values: readonly string[], current: string, onChange: (v: string) => void): HTMLElement {
  const s = h('select', { name, 'aria-label': label, onchange: (e) => onChange((e.target as HTMLSelectElement).value) }, h('option', { value: '' }, `${label}: all`)) as HTMLSelectElement;
  for (const v of values) s.append(h('option', { value: v, selected: v === current }, v));
  return h('label', {}, s);
}

function filtersBar(): HTMLElement {
  const uniq = (xs: Array<string | null>) => [...new Set(xs.filter((x): x is string => !!x))].sort();
  const labelNames = uniq(ui.items.flatMap((i) => Object.keys(i.labels)));
  return h(
    'div',
    { class: 'filters' },
    select('workflow', 'Workflow', uniq(ui.items.map((i) => i.workflowType)), ui.filters.workflow, (v) => ((ui.filters.workflow = v), render())),
    ...labelNames.map((n) => select(n, n[0]!.toUpperCase() + n.slice(1), uniq(ui.items.map((i) => i.labels[n] ?? null)), ui.filters.labels[n] ?? '', (v) => ((ui.filters.labels[n] = v), render()))),
    select('prompt', 'Prompt version', uniq(ui.items.map((i) => i.promptVersion)), ui.filters.prompt, (v) => ((ui.filters.prompt = v), render())),
  );
}

function queueTable(rows: QueueItem[]): HTMLElement {
  const sortSelect = h(
    'select',
    { 'aria-label': 'Sort by', onchange: (e) => ((ui.sort = (e.target as HTMLSelectElement).value as 'deadline' | 'age'), render()) },
    h('option', { value: 'deadline', selected: ui.sort === 'deadline' }, 'Sort: deadline'),
    h('option', { value: 'age', selected: ui.sort === 'age' }, 'Sort: oldest'),
  );
  const head = h('tr', {}, ...['Run', 'Waiting for', 'What', 'Labels', 'Prompt', 'Age', 'Time left', 'Who may'].map((t) => h('th', { scope: 'col' }, t)));
  const body = h('tbody');
  rows.forEach((i, n) => {
    const d = i.decision;
    const left = d ? Math.round((Date.parse(d.deadline) - ui.now) / 1000) : null;
    body.append(
      h(
        'tr',
        {
          class: `${n === ui.selected ? 'selected' : ''} ${left !== null && left < 3600 ? 'due-soon' : ''}`.trim(),
          'data-run': i.workflowId,
          'data-key': d?.key ?? '',
          tabindex: '0',
          onclick: () => ((ui.selected = n), void openRun(i.workflowId)),
        },
        h('td', { class: 'run' }, h('div', { class: 'mono' }, i.workflowId), h('div', { class: 'muted' }, i.workflowType)),
        h('td', {}, d ? `${d.kind}${d.mine ? '' : ' (not yours)'}` : (i.phase ?? '')),
        h('td', {}, d ? d.title : '', d ? h('div', { class: 'muted' }, d.reason) : null),
        h('td', {}, Object.entries(i.labels).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(' ')),
        h('td', { class: 'mono' }, i.promptVersion ?? ''),
        h('td', {}, duration((ui.now - Date.parse(i.startedAt)) / 1000)),
        h('td', { title: d ? `${d.deadline}; then ${d.atDeadline}` : '' }, left === null ? '' : duration(left), d && d.reminded.length > 0 ? h('div', { class: 'muted' }, `reminded ${d.reminded.length}×`) : null),
        h('td', {}, d ? d.approvers.join(', ') : ''),
      ),
    );
  });
  return h('section', { class: 'queue' }, h('div', { class: 'toolbar' }, filtersBar(), sortSelect), h('table', { 'aria-label': 'Review queue' }, h('thead', {}, head), body), rows.length === 0 ? h('p', { class: 'empty' }, 'Nothing is waiting for a person.') : null);
}

function json(value: unknown): HTMLElement {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

/** The answer to the last decision or grade sent on `run`, when there is one. */
function answerBanner(run: string | undefined): HTMLElement | null {
  const a = ui.answer;
  if (!a || a.run !== run) return null;
  const text: Record<string, string> = {
    accepted: 'Accepted',
    already_decided: 'Already decided',
    not_authorised: 'Not authorised',
    deadline_passed: 'Deadline passed',
    not_awaiting_review: 'Not waiting for a decision',
    invalid: 'Invalid',
    not_found: 'No such run',
    already_graded: 'Already graded',
  };
  return h('div', { class: `answer ${a.status}`, role: 'status', 'data-status': a.status }, h('strong', {}, text[a.status] ?? a.status), a.message ? `: ${a.message}` : '');
}

/** The note field: its text kept in `ui.note`, so a re-render does not lose what was typed. */
function noteInput(): HTMLInputElement {
  const note = h('input', { type: 'text', name: 'note', placeholder: 'note (optional): why', maxlength: '1000', 'aria-label': 'Note', oninput: (e) => (ui.note = (e.target as HTMLInputElement).value) }) as HTMLInputElement;
  note.value = ui.note;
  return note;
}

/** A form of one select per field (a correction, an incorrect grade); `submit` gets the chosen values by field name. */
function fieldsForm(fields: Choice['fields'], submit: (values: Record<string, string>) => void, ...buttons: HTMLElement[]): HTMLElement {
  return h(
    'form',
    {
      class: 'correct-form',
      onsubmit: (e) => {
        e.preventDefault();
        const values: Record<string, string> = {};
        for (const sel of (e.target as HTMLFormElement).querySelectorAll('select')) values[sel.name] = sel.value;
        submit(values);
      },
    },
    ...fields.map((f) => {
      const sel = h('select', { name: f.name, 'aria-label': f.label }) as HTMLSelectElement;
      for (const o of f.options) sel.append(h('option', { value: o, selected: o === f.value }, o));
      return h('label', {}, `${f.label} `, sel);
    }),
    ...buttons,
  );
}

function decisionPanel(d: Decision): HTMLElement {
  const note = noteInput();
  const buttons = d.choices.map((c) =>
    h('button', { type: 'button', class: `choice ${c.id}`, 'data-choice': c.id, title: `${c.label} (${c.id[0]})`, onclick: () => choose(d, c, note.value) }, h('u', {}, c.label[0]!), c.label.slice(1)),
  );
  const correcting = ui.correcting && ui.correcting.decision.key === d.key ? ui.correcting : null;
  const form = correcting
    ? fieldsForm(
        correcting.choice.fields,
        (fields) => void send(d, correcting.choice.id, note.value, fields),
        h('button', { type: 'submit', class: 'primary' }, 'Save correction'),
        h('button', { type: 'button', onclick: () => ((ui.correcting = null), render()) }, 'Cancel'),
      )
    : null;
  return h(
    'div',
    { class: 'decision', 'data-verb': d.verb, 'data-key': d.key },
    h('h3', {}, `${d.kind === 'approval' ? 'Held action' : d.kind === 'task' ? 'Task' : 'Review'}: ${d.title}`),
    h('p', {}, d.reason),
    h('p', { class: 'muted' }, `Who may decide: ${d.approvers.join(', ')}. Deadline ${d.deadline} (${duration(Math.round((Date.parse(d.deadline) - ui.now) / 1000))}); then ${d.atDeadline}.`),
    d.reminded.length > 0 ? h('p', { class: 'muted' }, `Reminders sent: ${d.reminded.join(', ')}`) : null,
    note,
    h('div', { class: 'buttons' }, ...buttons),
    form,
  );
}

function detailPanel(): HTMLElement | null {
  const r = ui.run;
  if (!r) return null;
  const d = r.detail;
  return h(
    'aside',
    { class: 'detail', 'aria-label': 'Run detail' },
    h('h2', {}, r.workflowId),
    h('p', { class: 'muted' }, r.workflowType, r.link ? h('span', {}, ' · ', h('a', { href: r.link, target: '_blank', rel: 'noopener' }, 'open in Temporal UI')) : null),
    answerBanner(r.workflowId),
    ...r.waiting.map(decisionPanel),
    d?.decided ? h('p', { class: 'decided' }, `Decided (${d.decided.action}) by ${d.decided.by}${d.decided.note ? `: ${d.decided.note}` : ''}`) : null,
    h('h3', {}, 'Model output'),
    d ? json(d.output) : h('p', {}, '-'),
    d ? h('dl', {}, h('dt', {}, 'Confidence'), h('dd', {}, d.confidence === null ? '-' : String(d.confidence)), h('dt', {}, 'Prompt'), h('dd', { class: 'mono' }, d.promptVersion ?? '-'), h('dt', {}, 'Cost'), h('dd', {}, `$${d.costUsd.toFixed(6)}`)) : null,
    d && d.issues.length > 0 ? h('div', {}, h('h3', {}, 'Validation issues'), h('ul', { class: 'issues' }, ...d.issues.map((i) => h('li', {}, i)))) : null,
    d && d.modelTrail.length > 0 ? h('div', {}, h('h3', {}, 'Model trail'), h('ul', {}, ...d.modelTrail.map((t) => h('li', {}, `${t.provider}/${t.model}: ${t.event}${t.detail ? ` (${t.detail})` : ''}`)))) : null,
    h('h3', {}, 'Trigger'),
    json(r.trigger),
    h('h3', {}, 'Evidence so far'),
    r.evidence.length === 0 ? h('p', { class: 'muted' }, 'none yet') : h('ul', { class: 'evidence' }, ...r.evidence.map((e) => h('li', {}, h('span', { class: 'mono' }, e.id), ` ${e.tool} ${e.status}${e.approver ? ` (approved by ${e.approver})` : ''}${e.detail ? `: ${e.detail}` : ''}`))),
  );
}

/** The SLA at a glance, per workflow: how many wait, the oldest, how many are overdue, the next deadline. */
function slaStrip(): HTMLElement {
  const by = new Map<string, QueueItem[]>();
  for (const i of ui.items) by.set(i.workflowType, [...(by.get(i.workflowType) ?? []), i]);
  const cells = [...by].map(([type, items]) => {
    const oldest = Math.max(...items.map((i) => (ui.now - Date.parse(i.startedAt)) / 1000));
    const lefts = items.filter((i) => i.decision).map((i) => (Date.parse(i.decision!.deadline) - ui.now) / 1000);
    const overdue = lefts.filter((l) => l < 0).length;
    const next = lefts.length > 0 ? Math.min(...lefts) : null;
    return h('div', { class: 'sla-cell', 'data-workflow': type }, h('strong', {}, type), ` ${items.length} waiting · oldest ${duration(oldest)}${next === null ? '' : ` · next deadline ${duration(next)}`}${overdue ? ` · ${overdue} overdue` : ''}`);
  });
  return h('div', { class: 'sla' }, ...(cells.length > 0 ? cells : [h('span', { class: 'muted' }, 'No one is waiting.')]));
}

function tabs(): HTMLElement {
  const tab = (view: 'queue' | 'grading', label: string) =>
    h('button', { type: 'button', role: 'tab', class: `tab ${ui.view === view ? 'active' : ''}`, 'aria-selected': ui.view === view ? 'true' : 'false', onclick: () => void switchView(view) }, label);
  return h('nav', { role: 'tablist' }, tab('queue', `Queue (${ui.items.length})`), tab('grading', `To grade (${ui.grading.length})`));
}

function gradingTable(): HTMLElement {
  const body = h('tbody');
  ui.grading.forEach((g, n) => {
    const input = g.input as { subject?: string; body?: string } | null;
    body.append(
      h(
        'tr',
        { 'data-grade': g.workflowId, class: n === ui.selected ? 'selected' : '', tabindex: '0', onclick: () => ((ui.selected = n), (ui.grade = g), (ui.gradeIncorrect = false), render()) },
        h('td', {}, g.workflowType),
        h('td', { class: 'mono' }, g.workflowId),
        h('td', {}, input?.subject ?? '', h('div', { class: 'muted' }, (input?.body ?? '').slice(0, 120))),
        h('td', { class: 'mono' }, JSON.stringify(g.output).slice(0, 120)),
        h('td', { class: 'mono' }, g.promptVersion),
        h('td', {}, duration((ui.now - Date.parse(g.sampledAt)) / 1000)),
      ),
    );
  });
  const head = h('tr', {}, ...['Workflow', 'Run', 'Input', 'Output (applied)', 'Prompt', 'Sampled'].map((t) => h('th', { scope: 'col' }, t)));
  return h(
    'section',
    { class: 'queue' },
    h('p', { class: 'muted' }, 'A sample of runs applied without a person, graded after the fact: grading never holds a run. Corrections become eval cases.'),
    h('table', { 'aria-label': 'Grading queue' }, h('thead', {}, head), body),
    ui.grading.length === 0 ? h('p', { class: 'empty' }, 'Nothing to grade.') : null,
  );
}

function gradePanel(): HTMLElement | null {
  const g = ui.grade;
  if (!g) return null;
  const note = noteInput();
  const form = ui.gradeIncorrect ? fieldsForm(g.fields, (fields) => void sendGrade(g, 'incorrect', fields), h('button', { type: 'submit', class: 'primary' }, 'Save grade')) : null;
  return h(
    'aside',
    { class: 'detail', 'aria-label': 'Grade a run' },
    h('h2', {}, g.workflowId),
    h('p', { class: 'muted' }, `${g.workflowType} · ${g.promptVersion}`, g.link ? h('span', {}, ' · ', h('a', { href: g.link, target: '_blank', rel: 'noopener' }, 'open in Temporal UI')) : null),
    answerBanner(g.workflowId),
    h('h3', {}, 'Input'),
    json(g.input),
    h('h3', {}, 'Output (applied)'),
    json(g.output),
    note,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'button', class: 'choice approve', 'data-verdict': 'correct', onclick: () => void sendGrade(g, 'correct', {}) }, 'Correct'),
      h('button', { type: 'button', class: 'choice reject', 'data-verdict': 'incorrect', onclick: () => ((ui.gradeIncorrect = true), render()) }, 'Incorrect…'),
    ),
    form,
  );
}

async function loadGrading(): Promise<void> {
  ui.grading = (await api<{ items: GradeItem[] }>('/api/grading')).body.items;
  if (ui.grade && !ui.grading.some((g) => g.workflowId === ui.grade!.workflowId) && ui.answer?.run !== ui.grade.workflowId) ui.grade = null;
  render();
}

async function switchView(view: 'queue' | 'grading'): Promise<void> {
  ui.view = view;
  ui.selected = 0;
  await (view === 'grading' ? loadGrading() : loadQueue());
}

async function sendGrade(g: GradeItem, verdict: 'correct' | 'incorrect', fields: Record<string, string>): Promise<void> {
  const { body } = await api<Answer>(`/api/grading/${encodeURIComponent(g.workflowId)}`, {
    method: 'POST',
    body: JSON.stringify({ verdict, fields, ...(ui.note.trim() ? { note: ui.note.trim() } : {}) }),
  });
  ui.answer = { ...body, run: g.workflowId };
  ui.note = '';
  ui.gradeIncorrect = false;
  await loadGrading();
}

function render(): void {
  const root = document.getElementById('app')!;
  const rows = visible();
  ui.selected = Math.max(0, Math.min(ui.selected, (ui.view === 'queue' ? rows.length : ui.grading.length) - 1));
  root.replaceChildren(
    h(
      'header',
      {},
      h('h1', {}, 'Review queue'),
      h('span', { class: `live ${ui.live ? 'on' : 'off'}`, title: 'live updates' }, ui.live ? '● live' : '○ reconnecting'),
      h('span', { class: 'who' }, ui.me ? `${ui.me.reviewerId} (${ui.me.roles.join(', ')})` : ''),
      h('form', { method: 'post', action: '/logout', class: 'logout' }, h('button', { type: 'submit' }, 'Sign out')),
    ),
    tabs(),
    ui.view === 'queue' ? slaStrip() : '',
    ui.view === 'queue' ? h('main', {}, queueTable(rows), detailPanel()) : h('main', {}, gradingTable(), gradePanel()),
    ui.help
      ? h('div', { class: 'help', role: 'dialog' }, h('h2', {}, 'Keyboard'), h('p', {}, 'j / k: next / previous · Enter: open · a: approve · r: reject (resolve a task) · c: correct · Esc: close · ?: this help'))
      : h('footer', { class: 'muted' }, 'Press ? for keyboard shortcuts'),
  );
}

async function loadQueue(): Promise<void> {
  const { body } = await api<{ items: QueueItem[]; now: string }>('/api/queue');
  ui.items = body.items;
  ui.now = Date.parse(body.now);
  render();
}

async function openRun(workflowId: string): Promise<void> {
  const { status, body } = await api<RunView & Answer>(`/api/runs/${encodeURIComponent(workflowId)}`);
  if (status !== 200) {
    ui.answer = { status: body.status, message: body.message ?? '', run: workflowId };
    return render();
  }
  if (ui.run?.workflowId !== body.workflowId) ui.note = '';
  ui.run = body;
  ui.correcting = null;
  render();
}

function choose(d: Decision, c: Choice, note: string): void {
  if (c.fields.length > 0) {
    ui.correcting = { decision: d, choice: c };
    render();
    document.querySelector<HTMLSelectElement>('.correct-form select')?.focus();
    return;
  }
  void send(d, c.id, note, {});
}

async function send(d: Decision, choice: string, note: string, fields: Record<string, string>): Promise<void> {
  const run = ui.run;
  if (!run) return;
  const { body } = await api<Answer>(`/api/runs/${encodeURIComponent(run.workflowId)}/decisions`, {
    method: 'POST',
    body: JSON.stringify({ verb: d.verb, key: d.key, choice, fields, deadline: d.deadline, ...(note.trim() ? { note: note.trim() } : {}) }),
  });
  ui.answer = { ...body, run: run.workflowId };
  ui.correcting = null;
  ui.note = '';
  await openRun(run.workflowId);
  await loadQueue();
}

function onKey(e: KeyboardEvent): void {
  const target = e.target as HTMLElement;
  if (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') {
    if (e.key === 'Escape') target.blur();
    return;
  }
  if (target.tagName === 'SELECT' && e.key !== 'Escape') return;
  if (ui.view === 'grading') return;
  const rows = visible();
  const waiting = ui.run?.waiting ?? [];
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      ui.selected = Math.min(ui.selected + 1, rows.length - 1);
      return render();
    case 'k':
    case 'ArrowUp':
      ui.selected = Math.max(ui.selected - 1, 0);
      return render();
    case 'Enter':
    case 'o': {
      const row = rows[ui.selected];
      if (row) void openRun(row.workflowId);
      return;
    }
    case 'Escape':
      ui.run = null;
      ui.correcting = null;
      ui.help = false;
      return render();
    case '?':
      ui.help = !ui.help;
      return render();
    default: {
      // A choice by its first letter (approve, reject / resolve, correct) on the open run's first waiting decision.
      const d = waiting[0];
      const c = d?.choices.find((ch) => ch.id[0] === e.key);
      if (d && c) {
        e.preventDefault();
        choose(d, c, document.querySelector<HTMLInputElement>('.decision input[name="note"]')?.value ?? '');
      }
    }
  }
}

/** Live updates: the server says when the queue changed; the page re-reads it, and the open run with it. */
function listen(): void {
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => ((ui.live = true), render()));
  events.addEventListener('error', () => ((ui.live = false), render()));
  events.addEventListener('queue', () => {
    void loadQueue();
    void loadGrading();
    if (ui.run && !ui.correcting) void openRun(ui.run.workflowId);
  });
}

async function main(): Promise<void> {
  ui.me = (await api<{ reviewerId: string; roles: string[] }>('/api/me')).body;
  document.addEventListener('keydown', onKey);
  await loadQueue();
  await loadGrading();
  listen();
  // Ages and time left move with the clock between queue changes.
  setInterval(() => {
    ui.now += 1000;
    if (!ui.correcting && !ui.gradeIncorrect && !document.querySelector(':focus')?.matches('input, select, textarea')) render();
  }, 1000);
}

void main();
