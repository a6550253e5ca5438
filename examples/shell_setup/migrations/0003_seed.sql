insert into users (email) values ('ada@example.com'), ('grace@example.com');
insert into posts (user_id, title) select id, 'hello from ' || email from users;
