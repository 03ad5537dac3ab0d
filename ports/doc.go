// Package ports holds the small interfaces through which the application
// talks to the world: the transport that carries frames, the codec that turns
// records into bytes, the clock, the attachment spool and the user interface.
//
// Here "port" means the interface itself (hexagonal architecture's port), not
// an inbound handler. Adapters in ../adapters implement these interfaces;
// the apps in ../app depend only on them, so every adapter can be swapped in
// a test.
package ports
