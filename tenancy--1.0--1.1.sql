/* tenancy--1.0--1.1.sql -- reporting logins, secured views, delegation, operator tools (R14, R15, R20, R23) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.1'" to load this file. \quit
