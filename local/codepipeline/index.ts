/** The CodePipeline fake: see ./server for the protocol and ./world for the world model. */
export * from './server';
