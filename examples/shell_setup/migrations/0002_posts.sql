create table posts (
  id bigint generated always as identity primary key,
  user_id bigint not null references users,
  title text not null
);
