/**
 * The WAMP meta API's procedure and event URIs (WAMP spec, "Session Meta API", "Subscription Meta
 * API", "Registration Meta API", as Crossbar.io serves them), named once: the router serves them,
 * the hub and other clients call and subscribe to them.
 */
export const MetaUri = {
  session: {
    ON_JOIN: 'wamp.session.on_join',
    ON_LEAVE: 'wamp.session.on_leave',
    COUNT: 'wamp.session.count',
    LIST: 'wamp.session.list',
    GET: 'wamp.session.get',
    KILL: 'wamp.session.kill',
    KILL_BY_AUTHID: 'wamp.session.kill_by_authid',
    KILL_BY_AUTHROLE: 'wamp.session.kill_by_authrole',
  },
  subscription: {
    LIST: 'wamp.subscription.list',
    LOOKUP: 'wamp.subscription.lookup',
    MATCH: 'wamp.subscription.match',
    GET: 'wamp.subscription.get',
    LIST_SUBSCRIBERS: 'wamp.subscription.list_subscribers',
    COUNT_SUBSCRIBERS: 'wamp.subscription.count_subscribers',
    ON_CREATE: 'wamp.subscription.on_create',
    ON_SUBSCRIBE: 'wamp.subscription.on_subscribe',
    ON_UNSUBSCRIBE: 'wamp.subscription.on_unsubscribe',
    ON_DELETE: 'wamp.subscription.on_delete',
  },
  registration: {
    LIST: 'wamp.registration.list',
    LOOKUP: 'wamp.registration.lookup',
    MATCH: 'wamp.registration.match',
    GET: 'wamp.registration.get',
    LIST_CALLEES: 'wamp.registration.list_callees',
    COUNT_CALLEES: 'wamp.registration.count_callees',
    ON_CREATE: 'wamp.registration.on_create',
    ON_REGISTER: 'wamp.registration.on_register',
    ON_UNREGISTER: 'wamp.registration.on_unregister',
    ON_DELETE: 'wamp.registration.on_delete',
  },
} as const;
