// A toy auth service for trying the filter with `npm start`: GET /check answers 200 with
// x-auth-user for "authorization: Bearer good", 401 otherwise. PORT=9001 by default.
import http from "node:http";

const port = Number(process.env.PORT ?? 9001);
http
  .createServer((req, res) => {
    const ok = req.headers.authorization === "Bearer good";
    res.writeHead(ok ? 200 : 401, ok ? { "x-auth-user": "alice" } : {}).end();
    console.log(`${req.method} ${req.url} authorization=${req.headers.authorization ?? "-"} -> ${ok ? 200 : 401}`);
  })
  .listen(port, "127.0.0.1", () => console.log(`auth service on http://127.0.0.1:${port}`));
