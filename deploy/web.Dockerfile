# The edge: the built web app served by nginx, which also routes /api/*.
FROM node:20-bookworm-slim AS build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web .
RUN npm run build

FROM nginx:1.27-bookworm
COPY deploy/nginx.docker.conf /etc/nginx/nginx.conf
COPY --from=build /web/dist /usr/share/nginx/html
