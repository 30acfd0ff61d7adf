/** The GitHub REST fake: see ./server for the protocol and ./git for the repositories behind it. */
export * from './server';
