// The course's React frontend in the trace: page loads and calls to the backend as OpenTelemetry spans,
// sent to the backend's own /v1/traces (its collector holds the Honeycomb key; the browser never sees it).
//
//   import { startTracing } from './tracing';
//   startTracing({ backendUrl: process.env.REACT_APP_BACKEND_URL });   // first line of src/index.js
//
// - a page view is one trace: a `pageView` span from this call until the page has loaded and settled
//   (settleMillis after the load event), with the document load (documentLoad, documentFetch,
//   resourceFetch) and every fetch made meanwhile without a span of its own (React's effects run outside
//   any zone) inside it; later fetches (a click) are traces of their own;
// - fetch: a CLIENT span per fetch(), and `traceparent` sent to the backend's origin only, so the
//   backend's server span is the fetch span's child (other origins never see the header);
// - trace ids are X-Ray's (time-prefixed), so the same trace id is valid in X-Ray as in Honeycomb;
// - sampleRatio (default 0.1) is the share of page loads and user actions traced: the backend keeps the
//   browser's decision, so this, not the backend's sampling rules, decides what the frontend's calls record.
import { ROOT_CONTEXT, propagation, trace } from '@opentelemetry/api';
import { ZoneContextManager } from '@opentelemetry/context-zone';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  WebTracerProvider,
} from '@opentelemetry/sdk-trace-web';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Zones carry a span's context through callbacks; what runs outside any (React's effects) falls back to the
// page view while it lasts.
class PageViewContextManager extends ZoneContextManager {
  active() {
    const current = super.active();
    if (this.pageView !== undefined && trace.getSpan(current) === undefined) {
      return this.pageView;
    }
    return current;
  }
}

// documentLoad takes its parent from <meta name="traceparent">, as it does for server-rendered pages.
function announceParent(context) {
  const carrier = {};
  propagation.inject(context, carrier);
  if (carrier.traceparent) {
    const meta = document.createElement('meta');
    meta.name = 'traceparent';
    meta.content = carrier.traceparent;
    document.head.appendChild(meta);
  }
}

export function startTracing({
  backendUrl,
  serviceName = 'cruddur-frontend-react-js',
  sampleRatio = 0.1,
  settleMillis = 3000,
} = {}) {
  if (!backendUrl) {
    throw new Error('startTracing: set backendUrl to the backend (REACT_APP_BACKEND_URL), whose /v1/traces receives the spans');
  }
  const backendOrigin = new URL(backendUrl).origin;
  const tracesUrl = `${backendOrigin}/v1/traces`;
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    idGenerator: new AWSXRayIdGenerator(),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }), {
        scheduledDelayMillis: 1000,
        maxExportBatchSize: 64,
      }),
    ],
  });
  const contextManager = new PageViewContextManager();
  provider.register({ contextManager });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new DocumentLoadInstrumentation(),
      new FetchInstrumentation({
        // The backend's origin and nothing else: traceparent must not leak to third parties.
        propagateTraceHeaderCorsUrls: [new RegExp(`^${escapeRegExp(backendOrigin)}/`)],
        ignoreUrls: [tracesUrl],
        clearTimingResources: true,
      }),
    ],
  });
  const pageView = provider.getTracer('cruddur-frontend').startSpan('pageView', {
    attributes: { 'url.path': window.location.pathname },
  });
  contextManager.pageView = trace.setSpan(ROOT_CONTEXT, pageView);
  announceParent(contextManager.pageView);
  const pageViewEnded = new Promise((resolve) => {
    const endPageView = () => {
      setTimeout(() => {
        contextManager.pageView = undefined;
        pageView.end();
        resolve();
      }, settleMillis);
    };
    if (document.readyState === 'complete') {
      endPageView();
    } else {
      window.addEventListener('load', endPageView, { once: true });
    }
  });
  // provider.forceFlush() sends what is finished now (a page about to be left); pageViewEnded resolves after the page view.
  return { provider, pageViewEnded };
}
