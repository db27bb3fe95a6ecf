export function nodeVersionProblem(version: string, range: string): string | undefined;
export function supportedNodeRange(): string;
export function exitOnUnsupportedNode(): void;
