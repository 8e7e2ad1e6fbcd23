import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * RFC 9457 problem details, the one error shape every kubeOP HTTP API returns. `code` is stable and
 * documented (`KUBEOP_ERR_*`); clients branch on it, never on `detail`, which is for humans.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ path: string; message: string }>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error that maps to a problem response with a stable code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: Problem['errors'];
  constructor(
    status: number,
    code: string,
    message: string,
    opts: { cause?: unknown; errors?: Problem['errors'] } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = opts.errors;
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `https://kubeop.io/problems/${code
      .replace(/^KUBEOP_ERR_/, '')
      .toLowerCase()
      .replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  };
}

/** Fastify's own client errors (bad JSON, body too large, wrong content type) by their codes. */
const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'KUBEOP_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'KUBEOP_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'KUBEOP_ERR_INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'KUBEOP_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'KUBEOP_ERR_INVALID_BODY',
};

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route runs (a path that is not
 * valid percent-encoding, a path parameter over the length limit) answered as problems too. The
 * offending path is not echoed: it is attacker-chosen and may be huge.
 */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const [status, code, detail] =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'KUBEOP_ERR_URI_TOO_LONG', 'a path segment is longer than any name this API knows']
      : err.code === 'FST_ERR_BAD_URL'
        ? [400, 'KUBEOP_ERR_BAD_URL', 'the path is not valid percent-encoded UTF-8']
        : [400, 'KUBEOP_ERR_BAD_REQUEST', 'the request could not be routed'];
  void reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem(status, code, detail, { requestId: req.id }));
}

/**
 * Maps every error and unmatched route to a problem response. Contract: a 4xx says what was wrong;
 * a 5xx says only that something failed and the request id to quote — the error itself goes to the
 * log, never to the client.
 */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        problem(404, 'KUBEOP_ERR_ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`, {
          requestId: req.id,
        }),
      );
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    let body: Problem;
    if (err instanceof ApiError) {
      body = problem(err.status, err.code, err.message, err.errors ? { errors: err.errors } : {});
    } else if ('validation' in err && err.validation) {
      body = problem(400, 'KUBEOP_ERR_VALIDATION', err.message, {
        errors: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'invalid' })),
      });
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      const code = err.code?.startsWith('KUBEOP_ERR_')
        ? err.code
        : (fastifyCodes[err.code] ?? 'KUBEOP_ERR_BAD_REQUEST');
      body = problem(err.statusCode, code, err.message);
    } else {
      req.log.error({ err }, 'request failed');
      body = problem(500, 'KUBEOP_ERR_INTERNAL', 'internal error; quote the request id when reporting it');
    }
    body.requestId = req.id;
    void reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });
}
