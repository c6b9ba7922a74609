// Package schema validates algorithm parameters against the JSON Schema
// an algorithm publishes, reporting every problem at once in words a user
// can act on: the key path, what is wrong, and for an unknown key the
// nearest valid one.
package schema
