# The ledger's event envelope: the exact bytes stored, hashed into the RFC 6962
# tree and served. The ledger knows nothing of what a payload means; the
# workflow publishes a schema whose struct has this same layout with a typed
# payload, so `capnp decode` shows the whole event.
@0xd2f3a4c5b6e7f801;

$import "/capnp/c++.capnp".namespace("ocop::ledger::schema");

struct Actor {
  principal @0 :Text;  # who acted, e.g. "nguyen.van.a@camau"
  role @1 :Text;       # the role they acted in, e.g. "officer"
  unit @2 :Text;       # the administrative unit they acted for
}

struct Event {
  seq @0 :UInt64;           # global sequence number, from 1, no gaps
  stream @1 :Text;          # e.g. "product/CM-0001"
  version @2 :UInt64;       # this event's version within its stream, from 1
  type @3 :Text;            # event type name, e.g. "IdeaRegistered"
  effective @4 :Text;       # ISO date the act took legal effect, "YYYY-MM-DD"
  recordedAt @5 :Int64;     # when the ledger recorded it: microseconds since 1970-01-01T00:00:00Z
  actor @6 :Actor;
  idempotencyKey @7 :Text;  # the key of the append call that wrote it, or empty
  payload @8 :AnyPointer;   # the event's content, a struct of the publisher's schema
}
