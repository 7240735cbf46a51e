import { publicHeaders } from '../../transport/websocket';

test('credentials in HTTP headers never reach the meta API', () => {
  const h = publicHeaders({ host: 'x', cookie: 'sid=1', authorization: 'Basic abc', 'proxy-authorization': 'p', 'user-agent': 'ua' });
  expect(h).toEqual({ host: 'x', 'user-agent': 'ua' });
});
