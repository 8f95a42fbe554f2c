/**
 * Postmark's outbound message search (`GET /messages/outbound`) on top of the Postmark mock,
 * served from the emails the mock accepted, in the documented shape
 * `{ TotalCount, Messages: [{ MessageID, Recipients, Subject, MessageStream, Metadata ... }] }`.
 * Like Postmark it filters on `metadata_<field>`, `recipient` and `messagestream` (only `outbound`
 * without one); `control.tamper` changes the hits it answers, so a test reaches the code's own
 * checks of each hit (what a search whose filters let more through would answer).
 */
import type { PostmarkMock } from "../mocks/postmark.mock";

export type SearchHit = Record<string, unknown>;

/** The addresses in a Postmark `To` string ('"Lund, Ane" <ane@example.dk>, books@example.dk'). */
export function addressesIn(to: unknown): string[] {
  return (String(to ?? "").match(/[^\s<>",]+@[^\s<>",]+/g) ?? []).map((a) => a.toLowerCase());
}

export function withSearch(mock: PostmarkMock, token: string) {
  const control = {
    /** The next searches answer 500. */
    failSearches: 0,
    /** Every search answers this status (401, 403) with Postmark's token error. */
    refuseSearch: 0,
    /** The next accepted POST /email loses its answer: the client sees a timeout. */
    loseNextAnswer: false,
    /** Changes the hits a search answers. */
    tamper: undefined as ((hits: SearchHit[]) => SearchHit[]) | undefined,
  };
  const searches: URLSearchParams[] = [];
  const inner = mock.handle;
  mock.handle = async (request: Request) => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/messages/outbound") {
      searches.push(url.searchParams);
      mock.state.requests.push({
        method: "GET",
        path: url.pathname,
        headers: Object.fromEntries(request.headers),
        body: undefined,
      });
      if (request.headers.get("x-postmark-server-token") !== token || control.refuseSearch)
        return Response.json(
          { ErrorCode: 10, Message: "The Server API token you provided is not valid." },
          { status: control.refuseSearch || 401 },
        );
      if (control.failSearches > 0) {
        control.failSearches--;
        return Response.json({ ErrorCode: 0, Message: "An internal server error occurred." }, { status: 500 });
      }
      const count = Number(url.searchParams.get("count"));
      const offset = Number(url.searchParams.get("offset"));
      if (!Number.isInteger(count) || count < 1 || count > 500 || !Number.isInteger(offset) || offset < 0)
        return Response.json({ ErrorCode: 300, Message: "count (1-500) and offset are required." }, { status: 422 });
      const recipient = url.searchParams.get("recipient")?.toLowerCase();
      const stream = url.searchParams.get("messagestream") ?? "outbound";
      const metadata = [...url.searchParams].filter(([name]) => name.startsWith("metadata_"));
      const matching = mock.state.emails
        .filter((e) => !recipient || addressesIn(e.body.To).includes(recipient))
        .filter((e) => e.body.MessageStream === stream)
        .filter((e) =>
          metadata.every(([name, value]) => (e.body.Metadata as Record<string, string> | undefined)?.[name.slice(9)] === value),
        )
        .reverse();
      const hits: SearchHit[] = matching.slice(offset, offset + count).map((e) => ({
        MessageID: e.MessageID,
        To: addressesIn(e.body.To).map((Email) => ({ Email, Name: null })),
        Recipients: addressesIn(e.body.To),
        Subject: e.body.Subject,
        Status: "Sent",
        MessageStream: e.body.MessageStream,
        Metadata: e.body.Metadata ?? {},
      }));
      return Response.json({ TotalCount: matching.length, Messages: control.tamper ? control.tamper(hits) : hits });
    }
    const response = await inner(request);
    if (request.method === "POST" && url.pathname === "/email" && response.ok && control.loseNextAnswer) {
      // Postmark accepted it, but the answer never arrives: the client sees a timeout.
      control.loseNextAnswer = false;
      throw Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
    }
    return response;
  };
  const posts = () => mock.state.requests.filter((r) => r.method === "POST" && r.path === "/email");
  return { control, searches, posts };
}
