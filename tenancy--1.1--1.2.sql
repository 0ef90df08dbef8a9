/* tenancy--1.1--1.2.sql -- dossier migration between compartments (R16-R19, R21) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.2'" to load this file. \quit
