FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --no-create-home zhijian
COPY --from=build /src/target/release/zhijian /usr/local/bin/zhijian
USER zhijian
WORKDIR /tmp
ENV BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["zhijian"]
CMD ["serve"]
