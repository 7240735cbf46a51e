import { MetaUri, isValidUri } from '../../wamp';
import { MetaUri as ClientMetaUri } from '../../client';
import { Realm } from '../../router/realm';
import { allowAll } from '../../router/authorizer';
import { installMetaApi } from '../../router/meta';

const all = Object.values(MetaUri).flatMap((group) => Object.values(group) as string[]);
const isEvent = (uri: string) => /\.on_[a-z_]+$/.test(uri);

describe('MetaUri: the WAMP meta API URIs named once', () => {
  test('every URI is a strict WAMP URI in its group, and none is named twice', () => {
    for (const [group, uris] of Object.entries(MetaUri)) {
      for (const uri of Object.values(uris) as string[]) {
        expect(isValidUri(uri, true)).toBe(true);
        expect(uri.startsWith(`wamp.${group}.`)).toBe(true);
      }
    }
    expect(new Set(all).size).toBe(all.length);
  });

  test('the client re-exports the same table (the hub and consumers import it from client/)', () => {
    expect(ClientMetaUri).toBe(MetaUri);
  });

  test('the router serves exactly the procedures the table names (events are published, not registered)', () => {
    const realm = new Realm('r', allowAll, { strictUris: false });
    const registered: string[] = [];
    realm.dealer.registerInternal = (uri: string) => {
      registered.push(uri);
    };
    installMetaApi(realm);
    expect(registered.sort()).toEqual(all.filter((u) => !isEvent(u)).sort());
  });
});
