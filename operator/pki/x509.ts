/**
 * The one entry point to @peculiar/x509 in meshid: it needs reflect-metadata loaded before it, and
 * importing it only through here keeps that ordering true everywhere.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };
