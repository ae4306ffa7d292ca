/** The throwaway PostgreSQL server, from `governor/testing` where adopters' tests get it too. */
export { startPostgres, type PostgresServer } from 'governor/testing';
