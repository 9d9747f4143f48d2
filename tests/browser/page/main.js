// The project's test page, shaped like the course's home feed (frontend-react-js, HomeFeedPage and
// ActivityForm): it loads the feed and posts an activity, with frontend/src/tracing.js as a user adds it.
// ?backend= stands for REACT_APP_BACKEND_URL; ?mode=foreign is the same page served from an origin the
// backend does not allow.
import { startTracing } from '../../../frontend/src/tracing.js';

const params = new URLSearchParams(window.location.search);
const backend = params.get('backend');
const result = {};
window.__result = result;

async function outcome(call) {
  try {
    const res = await call();
    return { status: res.status };
  } catch (error) {
    return { error: String(error) };
  }
}

function otlpJson(traceId, name, padding = '') {
  const span = { traceId, spanId: '1'.repeat(16), name, kind: 3, startTimeUnixNano: '1', endTimeUnixNano: '2' };
  if (padding) span.attributes = [{ key: 'padding', value: { stringValue: padding } }];
  return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
}

async function postToTraces(body) {
  return outcome(() => fetch(`${backend}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }));
}

async function homeFeed() {
  const res = await fetch(`${backend}/api/activities/home`, { method: 'GET' });
  const activities = await res.json();
  document.getElementById('feed').replaceChildren(
    ...activities.map((activity) => Object.assign(document.createElement('li'), { textContent: activity.message })),
  );
  result.home = { status: res.status, activities: activities.length };
}

async function postActivity(message) {
  const res = await fetch(`${backend}/api/activities`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify({ ttl: '7-days', message }),
  });
  const activity = await res.json();
  result.posted = { status: res.status, uuid: activity.uuid };
}

async function main() {
  // Every page view traced; it lasts long enough for the page's calls on a loaded machine.
  const { provider, pageViewEnded } = startTracing({ backendUrl: backend, sampleRatio: 1, settleMillis: 8000 });
  await homeFeed();
  await postActivity(params.get('message'));
  // Bad batches from the allowed origin: the browser reads their 4xx (CORS headers are on errors too).
  result.oversized = await postToTraces(otlpJson('2'.repeat(32), 'oversized-marker', 'x'.repeat(70000)));
  result.malformed = await postToTraces(otlpJson('abcd', 'malformed-marker'));
  await pageViewEnded;
  await provider.forceFlush();
}

async function foreign() {
  result.home = await outcome(() => fetch(`${backend}/api/activities/home`));
  result.traces = await postToTraces(otlpJson('3'.repeat(32), 'foreign-marker'));
}

(params.get('mode') === 'foreign' ? foreign() : main())
  .catch((error) => { result.error = String(error && error.stack || error); })
  .finally(() => { window.__done = true; });
