import { Testing } from 'cdktf';

import { baseProps, grantsOf, resourceNamed, synthLoop } from './helpers';

Testing.setupJest();

const environmentOf = (synth: ReturnType<typeof synthLoop>) =>
  (
    resourceNamed(synth, 'aws_lambda_function', 'functions_classify_function').environment as {
      variables: Record<string, string>;
    }
  ).variables;

describe('classify model fallback wiring', () => {
  it('adds nothing without classifyModelId', () => {
    // Act
    const synth = synthLoop(baseProps);

    // Assess
    expect(environmentOf(synth)).not.toHaveProperty('SUTURE_CLASSIFY_MODEL_ID');
    expect(grantsOf(synth, 'functions_classify')).not.toHaveProperty('classify-model');
  });

  it('sets the model id and grants bedrock:InvokeModel on that foundation model only', () => {
    // Act
    const synth = synthLoop({ ...baseProps, classifyModelId: 'anthropic.claude-3-haiku-20240307-v1:0' });

    // Assess
    expect(environmentOf(synth).SUTURE_CLASSIFY_MODEL_ID).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    expect(grantsOf(synth, 'functions_classify')['classify-model']).toEqual([
      expect.objectContaining({
        sid: 'InvokeClassifierModel',
        actions: ['bedrock:InvokeModel'],
        resources: [
          expect.stringMatching(
            /^arn:\$\{.+\}:bedrock:\$\{.+\}::foundation-model\/anthropic\.claude-3-haiku-20240307-v1:0$/,
          ),
        ],
      }),
    ]);
    expect(grantsOf(synth, 'functions_plan')).not.toHaveProperty('classify-model');
  });

  it('uses a model or inference-profile ARN as it is', () => {
    // Prepare
    const arn =
      'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0';

    // Act
    const synth = synthLoop({ ...baseProps, classifyModelId: arn });

    // Assess
    expect(environmentOf(synth).SUTURE_CLASSIFY_MODEL_ID).toBe(arn);
    expect(grantsOf(synth, 'functions_classify')['classify-model']?.[0]?.resources).toEqual([arn]);
  });

  it('refuses a model id that is neither an id nor a Bedrock ARN', () => {
    expect(() => synthLoop({ ...baseProps, classifyModelId: 'arn:aws:s3:::bucket/x' })).toThrow(
      /classifyModelId "arn:aws:s3:::bucket\/x" is neither a Bedrock model id/,
    );
    expect(() => synthLoop({ ...baseProps, classifyModelId: 'arn:aws:s3:::bucket' })).toThrow(
      /classifyModelId/,
    );
    expect(() => synthLoop({ ...baseProps, classifyModelId: '' })).toThrow(/classifyModelId/);
  });
});
