import { matchesEventPattern } from '../../local/terraform/event-pattern';

const event = {
  source: 'aws.codepipeline',
  'detail-type': 'CodePipeline Action Execution State Change',
  resources: ['arn:aws:codepipeline:us-west-2:123456789012:myPipeline'],
  detail: {
    pipeline: 'myPipeline',
    state: 'FAILED',
    attempt: 3,
    nothing: null,
    tags: ['blue', 'green'],
    items: [{ kind: 'a' }, { kind: 'b' }],
    'source-ip': '10.0.0.42',
    file: 'build/lib/output.PNG',
  },
};

describe('matchesEventPattern', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['an exact value', { source: ['aws.codepipeline'] }, true],
    ['another value', { source: ['aws.s3'] }, false],
    ['any of several values', { source: ['aws.s3', 'aws.codepipeline'] }, true],
    ['an empty matcher list', { source: [] }, false],
    ['all keys (AND)', { source: ['aws.codepipeline'], detail: { state: ['SUCCEEDED'] } }, false],
    ['a nested object', { detail: { state: ['FAILED'], pipeline: ['myPipeline'] } }, true],
    ['any element of an event array', { detail: { tags: ['green'] } }, true],
    ['no element of an event array', { detail: { tags: ['red'] } }, false],
    ['objects inside an event array', { detail: { items: { kind: ['b'] } } }, true],
    ['a number, numerically', { detail: { attempt: [3.0] } }, true],
    ['a number against a string', { detail: { attempt: ['3'] } }, false],
    ['null against a null field', { detail: { nothing: [null] } }, true],
    ['null against a missing field', { detail: { absent: [null] } }, false],
    ['a missing field', { detail: { absent: ['x'] } }, false],
    ['a nested pattern on a string field', { detail: { state: { x: ['y'] } } }, false],
    ['prefix', { detail: { pipeline: [{ prefix: 'my' }] } }, true],
    ['prefix, not matching', { detail: { pipeline: [{ prefix: 'My' }] } }, false],
    ['prefix ignoring case', { detail: { pipeline: [{ prefix: { 'equals-ignore-case': 'MYP' } }] } }, true],
    ['suffix', { detail: { file: [{ suffix: '.PNG' }] } }, true],
    ['suffix, not matching', { detail: { file: [{ suffix: '.png' }] } }, false],
    ['suffix ignoring case', { detail: { file: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
    ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'failed' }] } }, true],
    ['equals-ignore-case, not matching', { detail: { state: [{ 'equals-ignore-case': 'fail' }] } }, false],
    ['wildcard', { detail: { file: [{ wildcard: 'build/*/*.PNG' }] } }, true],
    ['wildcard, not matching', { detail: { file: [{ wildcard: '*/bin/*' }] } }, false],
    ['anything-but a value', { detail: { state: [{ 'anything-but': 'SUCCEEDED' }] } }, true],
    ['anything-but the value', { detail: { state: [{ 'anything-but': 'FAILED' }] } }, false],
    ['anything-but a list', { detail: { state: [{ 'anything-but': ['FAILED', 'STOPPED'] }] } }, false],
    ['anything-but a number', { detail: { attempt: [{ 'anything-but': [1, 2] }] } }, true],
    ['anything-but a prefix', { detail: { pipeline: [{ 'anything-but': { prefix: 'my' } }] } }, false],
    ['anything-but another prefix', { detail: { pipeline: [{ 'anything-but': { prefix: 'x' } }] } }, true],
    ['anything-but a suffix', { detail: { file: [{ 'anything-but': { suffix: '.PNG' } }] } }, false],
    [
      'anything-but ignoring case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'failed' } }] } },
      false,
    ],
    ['anything-but a wildcard', { detail: { file: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false],
    ['anything-but on a missing field', { detail: { absent: [{ 'anything-but': 'x' }] } }, false],
    ['exists true', { detail: { state: [{ exists: true }] } }, true],
    ['exists true on a missing field', { detail: { absent: [{ exists: true }] } }, false],
    ['exists false', { detail: { absent: [{ exists: false }] } }, true],
    ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
    ['exists false below a missing object', { missing: { deeper: [{ exists: false }] } }, true],
    ['numeric range', { detail: { attempt: [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric out of range', { detail: { attempt: [{ numeric: ['>', 3] }] } }, false],
    ['numeric equality', { detail: { attempt: [{ numeric: ['=', 3] }] } }, true],
    ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
    ['cidr, outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
    ['$or', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['FAILED'] } }] }, true],
    ['$or, none matching', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['STOPPED'] } }] }, false],
  ])('%s', (_name, pattern, expected) => {
    // Prepare
    const input = structuredClone(event);

    // Act
    const matched = matchesEventPattern(pattern, input);

    // Assess
    expect(matched).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown operator', { source: [{ contains: 'x' }] }, /unsupported operator "contains" at source/],
    ['a scalar pattern value', { source: 'aws.s3' }, /must be an array or an object/],
    [
      'a bad numeric operator',
      { detail: { attempt: [{ numeric: ['!=', 1] }] } },
      /unsupported "numeric" operator/,
    ],
    ['a non-boolean exists', { source: [{ exists: 'yes' }] }, /"exists" at source needs true or false/],
    ['a matcher with two operators', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
  ])('rejects %s', (_name, pattern, message) => {
    // Prepare
    const input = structuredClone(event);

    // Act
    const act = (): boolean => matchesEventPattern(pattern, input);

    // Assess
    expect(act).toThrow(message);
  });
});
