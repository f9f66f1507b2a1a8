// See the issue 14 pages: filled in by the pages work.
export {};
