import { connect, type IncomingHttpHeaders } from 'node:http2';
import {
  AccessDeniedException,
  InternalServerException,
  InvokeAgentCommand,
  ThrottlingException,
  type BedrockAgentRuntimeClient,
} from '@aws-sdk/client-bedrock-agent-runtime';
import { replies, type BedrockAgentFake } from '../../local/bedrock-agent/server';
import { chunkText, fakeBedrockClient, readCompletion, startBedrockFake } from '../helpers/bedrock';

/**
 * The fake is only useful if the real SDK reads it as it reads AWS: every reply kind below goes
 * through the real BedrockAgentRuntimeClient (REST-JSON request, event-stream response).
 */
describe('BedrockAgentFake with the real BedrockAgentRuntimeClient', () => {
  let fake: BedrockAgentFake;
  let client: BedrockAgentRuntimeClient;

  const invoke = (
    input: Partial<ConstructorParameters<typeof InvokeAgentCommand>[0]> = {},
    abortSignal?: AbortSignal,
  ) =>
    client.send(
      new InvokeAgentCommand({
        agentId: 'AGENT12345',
        agentAliasId: 'ALIAS12345',
        sessionId: 'inc-0001',
        inputText: 'plan a remediation',
        ...input,
      }),
      abortSignal ? { abortSignal } : {},
    );

  beforeAll(async () => {
    fake = await startBedrockFake();
    client = fakeBedrockClient(fake);
  });

  afterEach(() => fake.reset());

  afterAll(async () => {
    client.destroy();
    await fake.stop();
  });

  it('records the request: path labels, inputText and sessionState', async () => {
    // Prepare
    fake.script(replies.text('ok'));

    // Act
    const output = await invoke({
      sessionState: {
        sessionAttributes: { incident: 'inc-0001' },
        promptSessionAttributes: { class: 'config_error' },
      },
      enableTrace: true,
    });
    await readCompletion(output);

    // Assess
    expect(fake.invocations).toHaveLength(1);
    expect(fake.lastInvocation).toMatchObject({
      agentId: 'AGENT12345',
      agentAliasId: 'ALIAS12345',
      sessionId: 'inc-0001',
      inputText: 'plan a remediation',
      enableTrace: true,
      sessionState: {
        sessionAttributes: { incident: 'inc-0001' },
        promptSessionAttributes: { class: 'config_error' },
      },
    });
    expect(fake.lastInvocation!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('sends a returnControl the SDK parses into functionInvocationInput', async () => {
    // Prepare
    fake.script(
      replies.returnControl(
        {
          actionGroup: 'suture-remediation',
          function: 'retry_stage',
          parameters: [
            { name: 'pipeline', type: 'string', value: 'myPipeline' },
            { name: 'delay_seconds', type: 'integer', value: '120' },
          ],
        },
        { invocationId: 'inv-1', rationale: 'the registry rate-limited us', text: 'Retrying.' },
      ),
    );

    // Act
    const output = await invoke();
    const events = await readCompletion(output);

    // Assess
    expect(output.contentType).toBe('application/json');
    expect(output.sessionId).toBe('inc-0001');
    expect(events.map((event) => Object.keys(event).filter((key) => key !== '$unknown'))).toEqual([
      ['trace'],
      ['chunk'],
      ['returnControl'],
    ]);
    expect(events[0]!.trace?.trace).toEqual({
      orchestrationTrace: { rationale: { text: 'the registry rate-limited us' } },
    });
    expect(chunkText(events)).toBe('Retrying.');
    expect(events[2]!.returnControl).toEqual({
      invocationId: 'inv-1',
      invocationInputs: [
        {
          functionInvocationInput: {
            actionGroup: 'suture-remediation',
            function: 'retry_stage',
            parameters: [
              { name: 'pipeline', type: 'string', value: 'myPipeline' },
              { name: 'delay_seconds', type: 'integer', value: '120' },
            ],
          },
        },
      ],
    });
  });

  it('passes malformed proposals through verbatim (unknown function, bad parameter types, several invocations)', async () => {
    // Prepare
    fake.script(
      replies.returnControl([
        {
          actionGroup: 'suture-remediation',
          function: 'attach_role_policy',
          parameters: [
            { name: 'policy_arn', type: 'string', value: 'arn:aws:iam::aws:policy/AdministratorAccess' },
          ],
        },
        {
          actionGroup: 'suture-remediation',
          function: 'retry_stage',
          parameters: [{ name: 'delay_seconds', type: 'integer', value: 'soon' }],
        },
      ]),
    );

    // Act
    const events = await readCompletion(await invoke());

    // Assess
    const inputs = events[0]!.returnControl!.invocationInputs!;
    expect(inputs.map((input) => input.functionInvocationInput?.function)).toEqual([
      'attach_role_policy',
      'retry_stage',
    ]);
    expect(inputs[1]!.functionInvocationInput!.parameters).toEqual([
      { name: 'delay_seconds', type: 'integer', value: 'soon' },
    ]);
  });

  it('streams text chunks, decoded from base64 bytes', async () => {
    // Prepare
    fake.script(replies.text('I would ', 'retry the stage. ', 'ünïcode ✓'));

    // Act
    const events = await readCompletion(await invoke());

    // Assess
    expect(events).toHaveLength(3);
    expect(events.every((event) => event.chunk?.bytes instanceof Uint8Array)).toBe(true);
    expect(chunkText(events)).toBe('I would retry the stage. ünïcode ✓');
  });

  it('raises an in-stream throttlingException as ThrottlingException after the events before it', async () => {
    // Prepare
    fake.script(
      replies.streamException('throttlingException', 'Your request rate is too high', [{ chunk: 'partial' }]),
    );
    const seen: string[] = [];

    // Act
    const output = await invoke();
    const reading = (async () => {
      for await (const event of output.completion!) seen.push(chunkText([event]));
    })();

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ThrottlingException);
    await expect(reading).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Your request rate is too high',
    });
    expect(seen).toEqual(['partial']);
  });

  it('raises an in-stream exception that comes first from send() itself (the SDK reads the first event eagerly)', async () => {
    // Prepare
    fake.script(replies.streamException('dependencyFailedException', 'the action group failed'));

    // Act
    const sending = invoke().then(readCompletion);

    // Assess
    await expect(sending).rejects.toMatchObject({
      name: 'DependencyFailedException',
      message: 'the action group failed',
    });
  });

  it('raises an unmodelled :message-type error frame with its error code as the name', async () => {
    // Prepare
    fake.script({ events: [{ error: 'InternalFailure', message: 'stream broke' }] });

    // Act
    const sending = invoke().then(readCompletion);

    // Assess
    // The SDK appends a note about the raw response to errors raised while deserialising.
    await expect(sending).rejects.toMatchObject({
      name: 'InternalFailure',
      message: expect.stringContaining('stream broke'),
    });
  });

  it.each([
    ['429 ThrottlingException', replies.throttled(), ThrottlingException, 429],
    ['500 InternalServerException', replies.internalError(), InternalServerException, 500],
    ['403 AccessDeniedException', replies.accessDenied(), AccessDeniedException, 403],
  ])('answers HTTP %s as the SDK error class', async (_label, reply, errorClass, status) => {
    // Prepare
    fake.script(reply);

    // Act
    const sending = invoke();

    // Assess
    await expect(sending).rejects.toBeInstanceOf(errorClass);
    await expect(sending).rejects.toMatchObject({ $metadata: { httpStatusCode: status } });
  });

  it('answers an unscripted call with a visible 500', async () => {
    // Act
    const sending = invoke();

    // Assess
    await expect(sending).rejects.toMatchObject({
      name: 'InternalServerException',
      message: 'BedrockAgentFake: no reply scripted',
    });
  });

  it('serves the scripted replies in order, so the SDK retry of a 429 gets the next one', async () => {
    // Prepare
    const retrying = fakeBedrockClient(fake, 3);
    fake.script(
      replies.throttled(),
      replies.returnControl({ actionGroup: 'suture-remediation', function: 'escalate', parameters: [] }),
    );

    // Act
    const output = await retrying.send(
      new InvokeAgentCommand({ agentId: 'A1', agentAliasId: 'B1', sessionId: 'inc-2', inputText: 'x' }),
    );
    const events = await readCompletion(output);
    retrying.destroy();

    // Assess
    expect(fake.invocations).toHaveLength(2);
    expect(output.$metadata.attempts).toBe(2);
    expect(events[0]!.returnControl!.invocationInputs![0]!.functionInvocationInput!.function).toBe(
      'escalate',
    );
  });

  it('uses the default reply once the queue is empty', async () => {
    // Prepare
    fake.setDefaultReply(replies.text('default'));

    // Act
    const first = chunkText(await readCompletion(await invoke()));
    const second = chunkText(await readCompletion(await invoke()));
    fake.setDefaultReply(replies.internalError('BedrockAgentFake: no reply scripted'));

    // Assess
    expect([first, second]).toEqual(['default', 'default']);
  });

  it('delays a reply, so a caller deadline (AbortSignal) fires first', async () => {
    // Prepare
    fake.script(replies.delayed(5_000, replies.text('too late')));
    const started = Date.now();

    // Act
    const sending = invoke({}, AbortSignal.timeout(200));

    // Assess
    await expect(sending).rejects.toMatchObject({ name: expect.stringMatching(/Abort|Timeout/) });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('delays between frames, and the whole reply still arrives', async () => {
    // Prepare
    fake.script({ events: [{ chunk: 'a' }, { pauseMs: 150 }, { chunk: 'b' }] });
    const started = Date.now();

    // Act
    const text = chunkText(await readCompletion(await invoke()));

    // Assess
    expect(text).toBe('ab');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('sends a corrupt frame that the SDK refuses', async () => {
    // Prepare
    fake.script(replies.corruptFrame());

    // Act
    const sending = invoke().then(readCompletion);

    // Assess
    await expect(sending).rejects.toThrow(/checksum|CRC|prelude/i);
  });

  it('refuses paths that are not InvokeAgent', async () => {
    // Prepare
    const session = connect(fake.endpoint);

    // Act
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/agents/a/sessions' });
      stream.on('response', resolve).on('error', reject);
      stream.resume();
      stream.end('{}');
    });
    session.close();

    // Assess
    expect(headers[':status']).toBe(404);
    expect(headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(fake.invocations).toHaveLength(0);
  });
});
