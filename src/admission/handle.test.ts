import { describe, expect, it } from 'vitest';
import { pod, request, reviewBody, ruleContext } from '../../test/support/admission-fixtures.ts';
import { handleReview, parseReview } from './handle.ts';
import { validateWorkloadImages } from './rules/images.ts';

describe('answering an AdmissionReview', () => {
  it('answers with the request uid and the decision', () => {
    const req = request('Pod', pod({ containers: [{ name: 'a', image: 'evil.example/x' }] }));
    const out = handleReview(reviewBody(req), validateWorkloadImages, ruleContext());
    expect(out.status).toBe(200);
    expect(out.status === 200 && out.review).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: req.uid,
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: expect.stringMatching(/^kubeOP rule allowed-registries: /),
        },
      },
    });
  });

  it('turns an exception in a rule into a denial that names the rule internal-error', () => {
    const errors: unknown[] = [];
    const out = handleReview(
      reviewBody(request('Pod', pod())),
      () => {
        throw new Error('boom');
      },
      ruleContext(),
      (err) => errors.push(err),
    );
    expect(out.status === 200 && out.review.response).toMatchObject({
      allowed: false,
      status: {
        message:
          'kubeOP rule internal-error: kubeOP could not evaluate this Pod (boom). Fix: retry; if it keeps failing, report this message to the platform team.',
      },
    });
    expect(errors).toHaveLength(1);
  });

  it('refuses bodies that are not AdmissionReviews with a 400 and a reason', () => {
    for (const [body, error] of [
      [null, 'the body is not a JSON object'],
      [[], 'the body is not a JSON object'],
      [
        { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' },
        'expected apiVersion admission.k8s.io/v1 and kind AdmissionReview',
      ],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'the AdmissionReview has no request'],
      [
        { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 7 } },
        'request.uid is missing',
      ],
    ] as const) {
      expect(handleReview(body, validateWorkloadImages, ruleContext())).toEqual({ status: 400, error });
    }
  });

  it('coerces missing or mistyped fields instead of trusting them', () => {
    const req = parseReview({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: 5,
        operation: 'DELETE',
        userInfo: { username: 1, groups: ['a', 2] },
        namespace: 3,
      },
    });
    expect(req).toEqual({
      uid: 'u',
      kind: { group: '', version: '', kind: '' },
      resource: { group: '', version: '', resource: '' },
      operation: 'DELETE',
      userInfo: { username: '', groups: ['a'] },
      object: undefined,
      oldObject: undefined,
    });
  });
});
